package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/problem"
)

// startClinic runs the real server on a free loopback port until the test
// ends, and checks that it then shuts down cleanly.
func startClinic(t *testing.T, args ...string) (base string, logs *problemtest.Logs) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs = &problemtest.Logs{}
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), logs, func(a string) { addr <- a })
	}()
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("clinic did not start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if !strings.Contains(logs.String(), `"msg":"stopped"`) {
			t.Error("no record of a graceful stop")
		}
	})
	return base, logs
}

// apiDoc loads the service's OpenAPI document with kin-openapi and checks
// it is a valid OpenAPI 3 document.
func apiDoc(t *testing.T, base string) (*openapi3.T, routers.Router) {
	t.Helper()
	resp, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	doc, err := openapi3.NewLoader().LoadFromData(body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return doc, router
}

type call struct {
	name        string
	method      string
	path        string
	token       string
	contentType string
	body        string
	accept      string

	status  int
	headers map[string]string // header → substring it must contain
	detail  string            // expected detail, when checked
	errors  []problem.FieldError
	secret  string // must not appear anywhere in the response
}

func TestClinic(t *testing.T) {
	base, logs := startClinic(t, "-rate", "1000", "-timeout", "300ms")
	doc, router := apiDoc(t, base)
	bigName := strings.Repeat("x", 70<<10)
	calls := []call{
		{name: "health", method: "GET", path: "/healthz", status: 200},
		{name: "list", method: "GET", path: "/patients?limit=5", token: "viewer-token", status: 200},
		{name: "list: limit not a number", method: "GET", path: "/patients?limit=ten", token: "viewer-token", status: 400,
			detail: `Parameter "limit" has an invalid value.`},
		{name: "list: limit out of range", method: "GET", path: "/patients?limit=500", token: "viewer-token", status: 422,
			errors: []problem.FieldError{{Detail: "limit must be 100 or less", Parameter: "limit", Rule: "max", RuleParam: "100"}}},
		{name: "list: no token", method: "GET", path: "/patients", status: 401, headers: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "list: unknown token", method: "GET", path: "/patients", token: "guess", status: 401, headers: map[string]string{"WWW-Authenticate": "Bearer"}},
		{name: "get", method: "GET", path: "/patients/p-1", token: "viewer-token", status: 200},
		{name: "get: unknown id", method: "GET", path: "/patients/p-404", token: "viewer-token", status: 404,
			detail: "The server can not find the requested resource."},
		{name: "get: no token", method: "GET", path: "/patients/p-1", status: 401},
		{name: "create", method: "POST", path: "/patients", token: "staff-token", contentType: "application/json",
			body:   `{"name":"Grace Hopper","email":"grace@example.com","birth_date":"1906-12-09","contacts":[{"name":"Vincent","phone":"+12025550123"}]}`,
			status: 201, headers: map[string]string{"Location": "/patients/p-"}},
		{name: "create: malformed JSON", method: "POST", path: "/patients", token: "staff-token", contentType: "application/json",
			body: `{"name":"Grace",}`, status: 400, detail: "The request body is not valid JSON: syntax error at byte 17."},
		{name: "create: not JSON", method: "POST", path: "/patients", token: "staff-token", contentType: "text/plain",
			body: "name=Grace", status: 415},
		{name: "create: form is not JSON either", method: "POST", path: "/patients", token: "staff-token", contentType: "application/x-www-form-urlencoded",
			body: "name=Grace", status: 415},
		{name: "create: over 64 KiB", method: "POST", path: "/patients", token: "staff-token", contentType: "application/json",
			body: `{"name":"` + bigName + `"}`, status: 413},
		{name: "create: every field invalid", method: "POST", path: "/patients", token: "staff-token", contentType: "application/json",
			body:   `{"name":"","email":"SECRET-not-an-email","birth_date":"1990-13-45","contacts":[{"name":"Ok","phone":"+12025550123"},{"name":"","phone":"SECRET-555"}]}`,
			status: 422, secret: "SECRET",
			errors: []problem.FieldError{
				{Detail: "name is a required field", Pointer: "#/name", Rule: "required"},
				{Detail: "email must be a valid email address", Pointer: "#/email", Rule: "email"},
				{Detail: "birth_date does not match the 2006-01-02 format", Pointer: "#/birth_date", Rule: "datetime", RuleParam: "2006-01-02"},
				{Detail: "name is a required field", Pointer: "#/contacts/1/name", Rule: "required"},
				{Detail: "phone must be a valid E.164 formatted phone number", Pointer: "#/contacts/1/phone", Rule: "e164"},
			}},
		{name: "create: email taken", method: "POST", path: "/patients", token: "staff-token", contentType: "application/json",
			body: `{"name":"Ada","email":"ADA@example.com","birth_date":"1815-12-10"}`, status: 409, detail: "A patient with this email already exists."},
		{name: "create: viewer", method: "POST", path: "/patients", token: "viewer-token", contentType: "application/json",
			body: `{}`, status: 403},
		{name: "create: no token", method: "POST", path: "/patients", contentType: "application/json", body: `{}`, status: 401},
		{name: "delete: viewer", method: "DELETE", path: "/patients/p-1", token: "viewer-token", status: 403},
		{name: "delete: no token", method: "DELETE", path: "/patients/p-1", status: 401},
		{name: "delete: unknown id", method: "DELETE", path: "/patients/p-404", token: "staff-token", status: 404},
		{name: "slow report outlives the deadline", method: "GET", path: "/reports/slow", status: 503, headers: map[string]string{"Retry-After": "30"}},
		{name: "panic", method: "GET", path: "/debug/panic?msg=SECRET-panic", status: 500, secret: "SECRET"},
		{name: "internal error", method: "GET", path: "/debug/error?msg=SECRET-error", status: 500, secret: "SECRET"},
		{name: "internal error in XML", method: "GET", path: "/debug/error?msg=SECRET-error", accept: "application/problem+xml", status: 500, secret: "SECRET"},
		{name: "unknown path", method: "GET", path: "/nowhere", status: 404},
		{name: "wrong method", method: "PUT", path: "/patients", status: 405, headers: map[string]string{"Allow": "POST"}},
		{name: "problem type index", method: "GET", path: "/problems/", status: 200, headers: map[string]string{"Content-Type": "text/html"}},
		{name: "problem type page", method: "GET", path: "/problems/conflict", status: 200, headers: map[string]string{"Content-Type": "text/html"}},
		{name: "unknown problem type", method: "GET", path: "/problems/no-such-thing", status: 404},
		{name: "OpenAPI document", method: "GET", path: "/openapi.json", status: 200},
		{name: "delete", method: "DELETE", path: "/patients/p-1", token: "staff-token", status: 204},
		{name: "deleted is gone", method: "GET", path: "/patients/p-1", token: "staff-token", status: 404},
	}
	typeURIs := map[string]bool{}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			if c.accept != "" {
				req.Header.Set("Accept", c.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()

			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			for h, want := range c.headers {
				if got := resp.Header.Get(h); !strings.Contains(got, want) {
					t.Errorf("%s = %q, want it to contain %q", h, got, want)
				}
			}
			if c.secret != "" && (bytes.Contains(body, []byte(c.secret)) || strings.Contains(headerText(resp.Header), c.secret)) {
				t.Errorf("the response repeats %q: %s", c.secret, body)
			}
			if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				p := checkProblem(t, doc, resp, body)
				if p.Type != "about:blank" {
					typeURIs[p.Type] = true
				}
				if c.detail != "" && p.Detail != c.detail {
					t.Errorf("detail = %q, want %q", p.Detail, c.detail)
				}
				if c.errors != nil {
					if got := p.Errors(); !equalFieldErrors(got, c.errors) {
						t.Errorf("errors = %+v\nwant %+v", got, c.errors)
					}
				}
			}
			if resp.Header.Get("Content-Type") == "application/problem+xml" {
				return // the document describes the JSON form
			}
			checkAgainstDocument(t, router, req, resp, body)
		})
	}

	// Every problem type URI the service sent resolves to its documentation.
	if len(typeURIs) < 8 {
		t.Errorf("only %d problem types seen", len(typeURIs))
	}
	for uri := range typeURIs {
		resp, err := http.Get(base + uri)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Errorf("type %s: %d %s", uri, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	if strings.Contains(logs.String(), "SECRET") == false {
		t.Error("the internal errors were not logged; the canaries should be in the logs, not the responses")
	}
}

func headerText(h http.Header) string {
	var b strings.Builder
	_ = h.Write(&b)
	return b.String()
}

func equalFieldErrors(a, b []problem.FieldError) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkProblem parses a problem response and checks it against RFC 9457's
// schema and the document's Problem schema.
func checkProblem(t *testing.T, doc *openapi3.T, resp *http.Response, body []byte) *problem.Problem {
	t.Helper()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	p, err := problem.Parse(resp)
	if err != nil {
		t.Fatalf("not a problem: %v: %s", err, body)
	}
	if p.Status != resp.StatusCode {
		t.Errorf("body status %d, HTTP status %d", p.Status, resp.StatusCode)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Content-Language": "en"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q", h, got)
		}
	}
	if resp.Header.Get("Content-Type") != problem.MediaType {
		return p
	}
	if err := problemtest.ValidateSchema(body); err != nil {
		t.Errorf("Appendix A schema: %v", err)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if err := doc.Components.Schemas["Problem"].Value.VisitJSON(v); err != nil {
		t.Errorf("the document's Problem schema rejects %s: %v", body, err)
	}
	return p
}

// checkAgainstDocument validates a response against the operation the
// OpenAPI document declares for the request, when it declares one.
func checkAgainstDocument(t *testing.T, router routers.Router, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	route, params, err := router.FindRoute(req)
	if err != nil {
		return // not an operation of the document: unknown paths and methods
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: resp.StatusCode,
		Header: resp.Header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true, // a status the operation does not declare is an error
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("the OpenAPI document rejects the response: %v\n%s", err, body)
	}
}

// TestRateLimit runs a clinic with a rate of 1 per second: the second
// request with one token in a burst is a 429 with Retry-After, and other
// tokens are not affected.
func TestRateLimit(t *testing.T) {
	base, _ := startClinic(t, "-rate", "1")
	doc, router := apiDoc(t, base)
	get := func(token string) (*http.Response, []byte, *http.Request) {
		req, _ := http.NewRequest("GET", base+"/patients", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body, req
	}
	var limited *http.Response
	var limitedBody []byte
	var limitedReq *http.Request
	for range 5 {
		resp, body, req := get("viewer-token")
		if resp.StatusCode == http.StatusTooManyRequests {
			limited, limitedBody, limitedReq = resp, body, req
			break
		}
	}
	if limited == nil {
		t.Fatal("no 429 after 5 requests at a rate of 1/s")
	}
	if limited.Header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", limited.Header.Get("Retry-After"))
	}
	p := checkProblem(t, doc, limited, limitedBody)
	if p.Detail != "rate limit exceeded" {
		t.Errorf("detail = %q", p.Detail)
	}
	checkAgainstDocument(t, router, limitedReq, limited, limitedBody)
	if resp, _, _ := get("staff-token"); resp.StatusCode != 200 {
		t.Errorf("another token is limited too: %d", resp.StatusCode)
	}
	time.Sleep(1100 * time.Millisecond)
	if resp, _, _ := get("viewer-token"); resp.StatusCode != 200 {
		t.Errorf("still limited after Retry-After: %d", resp.StatusCode)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-rate", "0"}, {"-timeout", "-1s"}, {"-nope"}} {
		if err := run(context.Background(), args, io.Discard, nil); err == nil {
			t.Errorf("run(%q) accepted bad flags", args)
		}
	}
}

// TestHostileRequestIDs checks that the clinic drops a client's request id
// that is too long or carries markup before Echo's RequestID middleware
// would reflect it, and keeps a sound one.
func TestHostileRequestIDs(t *testing.T) {
	base, _ := startClinic(t)
	for id, kept := range map[string]bool{
		"req-42":                      true,
		"<script>alert(1)</script>":   false,
		strings.Repeat("a", 129):      false,
		`"><img src=x onerror=alert>`: false,
	} {
		req, _ := http.NewRequest("GET", base+"/nowhere", nil)
		req.Header.Set("X-Request-ID", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got := resp.Header.Get("X-Request-Id")
		if kept != (got == id) || got == "" {
			t.Errorf("X-Request-ID %.20q: the response carries %q", id, got)
		}
		if !kept && (bytes.Contains(body, []byte("script")) || bytes.Contains(body, []byte("onerror"))) {
			t.Errorf("the body reflects %.20q: %s", id, body)
		}
	}
}
