package apierrors_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// This file throws hostile and malformed requests at a real server (Echo
// behind httptest.NewServer, with the library mounted the documented way)
// and checks that each one gets the right 4xx problem, never a 5xx or a
// panic, that nothing the client sent is reflected, and that the server
// keeps serving afterwards.
//
// The table covers bodies (syntax, nesting, types, encodings, media
// types, sizes, lying lengths, chunking), validation (body fields, query
// and path parameters), URLs and headers, and the problem type pages. It
// runs once in order, with a known-good request after each case, and then
// all at once under the race detector.
//
// A few requests never reach Echo: net/http answers them itself with a
// text/plain body (431 for oversized headers, 400 for request lines,
// targets and headers it cannot parse, 417 for an unknown Expect). Those
// cases are marked malformedNotOurs and only checked for their status, for
// not reflecting anything and for the server surviving them.
//
// Echo's BodyLimit("64K") means 64,000 bytes (gommon's decimal K), not
// 64 KiB; the oversized bodies exceed both.

// malformedSecretMark is replaced in a case's request by the case's own
// secret, "SECRET-<n>", which must never come back in a response.
const malformedSecretMark = "{{S}}"

const (
	malformedTypeBase = "/problems/"
	malformedKnownID  = "3f1c2b9e-4d5a-4b6c-8d7e-9f0a1b2c3d4e"
	malformedGoodPath = "/patients?limit=5"
	malformedValidTP  = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	malformedValidTID = "4bf92f3577b34da6a3ce929d0e0e4736"
	// malformedOver is a body size over the limit, whether "64K" means
	// 64,000 bytes (as Echo's BodyLimit reads it) or 64 KiB.
	malformedOver = 70 << 10
)

// malformedLanguages are the Content-Language values the library sends.
var malformedLanguages = []string{"en", "fr", "de", "es", "pt-BR", "ja"}

type malformedContact struct {
	Name  string `json:"name" validate:"required,max=100"`
	Phone string `json:"phone" validate:"required,e164"`
}

type malformedPatient struct {
	Name      string             `json:"name" validate:"required,max=100"`
	Email     string             `json:"email" validate:"required,email"`
	BirthDate string             `json:"birth_date" validate:"required,datetime=2006-01-02"`
	WeightKG  int                `json:"weight_kg" validate:"omitempty,min=1,max=500"`
	Contacts  []malformedContact `json:"contacts" validate:"required,min=1,max=10,dive"`
}

type malformedListQuery struct {
	Limit int `query:"limit" validate:"min=1,max=100"`
}

type malformedPatientID struct {
	ID string `param:"id" validate:"required,uuid"`
}

// malformedBuffer is a goroutine-safe log sink.
type malformedBuffer = problemtest.Logs

type malformedServer struct {
	url     string
	addr    string
	client  *http.Client
	logs    *malformedBuffer // the library's slog records
	httpLog *malformedBuffer // net/http's own error log
}

func malformedStart(t *testing.T) *malformedServer {
	t.Helper()
	logs, httpLog := &malformedBuffer{}, &malformedBuffer{}
	cfg := middleware.Config{
		TypeBase: malformedTypeBase,
		Logger:   slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	e := echo.New()
	e.HideBanner = true
	e.Logger.SetOutput(httpLog)
	middleware.Mount(e, cfg)
	e.Validator = middleware.NewValidator()
	e.Use(echomw.BodyLimit("64K"), echomw.RequestID())

	e.POST("/patients", func(c echo.Context) error {
		var p malformedPatient
		if err := c.Bind(&p); err != nil {
			return err
		}
		if err := c.Validate(&p); err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, map[string]string{"id": malformedKnownID})
	})
	e.GET("/patients", func(c echo.Context) error {
		q := malformedListQuery{Limit: 20}
		if err := echo.QueryParamsBinder(c).Int("limit", &q.Limit).BindError(); err != nil {
			return err
		}
		if err := c.Validate(&q); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]any{"patients": []string{}, "limit": q.Limit})
	})
	e.GET("/patients/:id", func(c echo.Context) error {
		p := malformedPatientID{ID: c.Param("id")}
		if err := c.Validate(&p); err != nil {
			return err
		}
		if p.ID != malformedKnownID {
			return problem.New(status.NotFound).WithDetail("No patient has this id.")
		}
		return c.JSON(http.StatusOK, map[string]string{"id": p.ID, "name": "Ada Lovelace"})
	})
	e.GET("/problems/*", middleware.ProblemTypesHandler(cfg))

	srv := httptest.NewUnstartedServer(e)
	srv.Config.ErrorLog = log.New(httpLog, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	s := &malformedServer{
		url:  srv.URL,
		addr: srv.Listener.Addr().String(),
		client: &http.Client{
			Timeout: 20 * time.Second, // a guard against hangs, not a judgement
			Transport: &http.Transport{
				DisableCompression:  true,
				MaxIdleConnsPerHost: 2,
			},
		},
		logs:    logs,
		httpLog: httpLog,
	}
	t.Cleanup(s.client.CloseIdleConnections)
	return s
}

// malformedKind says what kind of response a case expects.
type malformedKind int

const (
	malformedProblem malformedKind = iota // an application/problem+json body
	malformedNotOurs                      // net/http answered before Echo saw the request
	malformedHTML                         // a problem type page
	malformedAny                          // the lying Content-Length: a 400/413 problem, or no response at all
	malformedXML                          // an application/problem+xml body, asked for with Accept
)

type malformedCase struct {
	name    string
	method  string // for requests sent with http.Client
	target  string // path and query, for http.Client
	header  http.Header
	body    string
	chunked bool // send the body without Content-Length

	raw        string // bytes written over a raw TCP connection instead
	closeWrite bool   // half-close the connection after writing raw
	pipelined  bool   // read every response the connection carries, not just the first
	rawWait    time.Duration

	status int
	kind   malformedKind
	// reflected names response headers allowed to carry the secret:
	// Echo's RequestID middleware copies X-Request-ID from the request.
	reflected []string
	checks    []malformedCheck
}

type malformedResult struct {
	status int
	header http.Header
	body   []byte
	doc    map[string]any     // the decoded problem, for problem cases
	noResp error              // why no response came, for malformedAny
	later  []*malformedResult // further responses on a pipelined connection
}

type malformedCheck func(t *testing.T, r *malformedResult)

func malformedH(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

var malformedJSONCT = []string{"Content-Type", "application/json"}

func malformedJSONH(kv ...string) http.Header {
	return malformedH(append(slices.Clone(malformedJSONCT), kv...)...)
}

// malformedBody returns a valid patient document with the given members
// replaced by raw JSON text; the value "-" leaves a member out.
func malformedBody(kv ...string) string {
	fields := map[string]string{
		"name":       `"Ada Lovelace"`,
		"email":      `"ada@example.com"`,
		"birth_date": `"1815-12-10"`,
		"contacts":   `[{"name":"Byron","phone":"+442071234567"}]`,
	}
	order := []string{"name", "email", "birth_date", "weight_kg", "contacts"}
	for i := 0; i+1 < len(kv); i += 2 {
		if !slices.Contains(order, kv[i]) {
			order = append(order, kv[i])
		}
		fields[kv[i]] = kv[i+1]
	}
	var b strings.Builder
	b.WriteByte('{')
	first := true
	for _, k := range order {
		v, ok := fields[k]
		if !ok || v == "-" {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%q:%s", k, v)
	}
	b.WriteByte('}')
	return b.String()
}

// malformedRaw builds a raw HTTP/1.1 request with a Host header and
// Connection: close, so that every response ends with the connection.
func malformedRaw(requestLine string, headers ...string) string {
	return malformedRawNoHost(requestLine, append([]string{"Host: malformed.test"}, headers...)...)
}

func malformedRawNoHost(requestLine string, headers ...string) string {
	var b strings.Builder
	b.WriteString(requestLine + "\r\n")
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	return b.String()
}

// ---- checks ----

// malformedPointers asserts one errors entry per listed body field,
// located by JSON Pointer, and nothing else.
func malformedPointers(ptrs ...string) malformedCheck {
	return func(t *testing.T, r *malformedResult) {
		t.Helper()
		entries := malformedEntries(t, r)
		var got []string
		for _, e := range entries {
			got = append(got, e["pointer"])
			if e["detail"] == "" {
				t.Errorf("errors entry without detail: %v", e)
			}
		}
		want := slices.Clone(ptrs)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("errors pointers = %q, want %q", got, want)
		}
	}
}

// malformedParameter asserts exactly one errors entry, for the parameter.
func malformedParameter(name string) malformedCheck {
	return func(t *testing.T, r *malformedResult) {
		t.Helper()
		entries := malformedEntries(t, r)
		if len(entries) != 1 || entries[0]["parameter"] != name || entries[0]["pointer"] != "" {
			t.Errorf("errors = %v, want one entry with parameter %q", entries, name)
		}
	}
}

func malformedEntries(t *testing.T, r *malformedResult) []map[string]string {
	t.Helper()
	raw, ok := r.doc["errors"].([]any)
	if !ok {
		t.Errorf("no errors array in %s", r.body)
		return nil
	}
	var out []map[string]string
	for _, item := range raw {
		m, ok := item.(map[string]any)
		if !ok {
			t.Errorf("errors entry %v is not an object", item)
			continue
		}
		e := map[string]string{}
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				t.Errorf("errors entry member %q is %T", k, v)
			}
			e[k] = s
		}
		if _, leaked := m["value"]; leaked {
			t.Errorf("errors entry carries the rejected value: %v", m)
		}
		out = append(out, e)
	}
	return out
}

func malformedNoMember(key string) malformedCheck {
	return func(t *testing.T, r *malformedResult) {
		t.Helper()
		if v, ok := r.doc[key]; ok {
			t.Errorf("member %q = %v, want it absent", key, v)
		}
	}
}

func malformedMember(key string, want any) malformedCheck {
	return func(t *testing.T, r *malformedResult) {
		t.Helper()
		if got := r.doc[key]; got != want {
			t.Errorf("member %q = %#v, want %#v", key, got, want)
		}
	}
}

// malformedInstanceSafe asserts that instance, if present, is short,
// escaped and not network-path ("//host") reference.
func malformedInstanceSafe(maxLen int) malformedCheck {
	return func(t *testing.T, r *malformedResult) {
		t.Helper()
		v, ok := r.doc["instance"]
		if !ok {
			return
		}
		s, _ := v.(string)
		if len(s) > maxLen || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "<>\"\r\n\x00 ") {
			t.Errorf("instance %q is not a safe, bounded path", s)
		}
	}
}

func malformedHeader(name, want string) malformedCheck {
	return func(t *testing.T, r *malformedResult) {
		t.Helper()
		if got := r.header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
}

func malformedHeaderAbsent(name string) malformedCheck {
	return func(t *testing.T, r *malformedResult) {
		t.Helper()
		if v, ok := r.header[http.CanonicalHeaderKey(name)]; ok {
			t.Errorf("header %s = %q, want it absent", name, v)
		}
	}
}

func malformedAllow(methods ...string) malformedCheck {
	return func(t *testing.T, r *malformedResult) {
		t.Helper()
		allow := r.header.Get("Allow")
		for _, m := range methods {
			if !strings.Contains(allow, m) {
				t.Errorf("Allow = %q, want it to list %s", allow, m)
			}
		}
	}
}

func malformedBodyLacks(subs ...string) malformedCheck {
	return func(t *testing.T, r *malformedResult) {
		t.Helper()
		for _, s := range subs {
			if bytes.Contains(r.body, []byte(s)) {
				t.Errorf("body contains %q: %s", s, malformedClip(r.body))
			}
		}
	}
}

// malformedObserve logs a response header without judging it: Echo's
// RequestID middleware reflects the client's X-Request-ID verbatim.
func malformedObserve(name string) malformedCheck {
	return func(t *testing.T, r *malformedResult) {
		t.Helper()
		v := r.header.Get(name)
		t.Logf("observed response header %s: %d bytes, %q", name, len(v), malformedClip([]byte(v)))
	}
}

func malformedClip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// ---- the cases ----

func malformedCases() []malformedCase {
	validBody := malformedBody()
	contacts := func(n int, phone string) string {
		var b strings.Builder
		b.WriteByte('[')
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"c%d","phone":%s}`, i, phone)
		}
		b.WriteByte(']')
		return b.String()
	}
	big := strings.Repeat("A", malformedOver)
	deepArrays := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	deepObjects := strings.Repeat(`{"a":`, 10001) + "1" + strings.Repeat("}", 10001)
	multipartBody := "--xyz\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n" + big + "\r\n--xyz--\r\n"
	hugeHeader := "X-Huge: " + strings.Repeat("h", 1100<<10)
	manyHeaders := make([]string, 0, 110000)
	for i := range 110000 {
		manyHeaders = append(manyHeaders, fmt.Sprintf("X-M%d: v", i))
	}
	someHeaders := malformedJSONH()
	for i := range 2000 {
		someHeaders.Set(fmt.Sprintf("X-Pad-%04d", i), "{{S}}")
	}
	longID := strings.Repeat("a", 3000)
	escapedGrowth := strings.Repeat("%3C%3E", 400) // 2400 bytes, escaped
	invalidEmail := malformedPointers("#/email")

	cases := []malformedCase{
		// ---- 1. bodies ----
		{name: "json/bare word", method: "POST", target: "/patients", header: malformedJSONH(),
			body: `{"name": {{S}}}`, status: 400},
		{name: "json/single quotes", method: "POST", target: "/patients", header: malformedJSONH(),
			body: `{'name': '{{S}}'}`, status: 400},
		{name: "json/trailing comma", method: "POST", target: "/patients", header: malformedJSONH(),
			body: `{"name":"{{S}}",}`, status: 400},
		{name: "json/truncated after colon", method: "POST", target: "/patients", header: malformedJSONH(),
			body: `{"name":"{{S}}","email":`, status: 400},
		{name: "json/truncated in string", method: "POST", target: "/patients", header: malformedJSONH(),
			body: `{"name":"{{S}}`, status: 400},
		// Echo binds nothing from an empty body (Content-Length 0), so the
		// required fields fail validation; an empty chunked body is EOF.
		{name: "json/empty body", method: "POST", target: "/patients", header: malformedJSONH(),
			body: ``, status: 422,
			checks: []malformedCheck{malformedPointers("#/name", "#/email", "#/birth_date", "#/contacts")}},
		{name: "json/whitespace body", method: "POST", target: "/patients", header: malformedJSONH(),
			body: " \r\n\t ", status: 400},
		{name: "json/empty chunked body", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Transfer-Encoding: chunked") + "0\r\n\r\n", status: 400},
		{name: "json/null", method: "POST", target: "/patients", header: malformedJSONH(),
			body: `null`, status: 422,
			checks: []malformedCheck{malformedPointers("#/name", "#/email", "#/birth_date", "#/contacts")}},
		{name: "json/top-level array", method: "POST", target: "/patients", header: malformedJSONH(),
			body: `["{{S}}"]`, status: 400},
		{name: "json/top-level string", method: "POST", target: "/patients", header: malformedJSONH(),
			body: `"{{S}}"`, status: 400},
		{name: "json/arrays nested 10000 deep", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", `"{{S}}"`, "name", deepArrays), status: 400},
		{name: "json/objects nested 10001 deep", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", `"{{S}}"`, "deep", deepObjects), status: 400},
		{name: "json/unclosed nesting 10000 deep", method: "POST", target: "/patients", header: malformedJSONH(),
			body: `{"email":"{{S}}","deep":` + strings.Repeat("[", 10000), status: 400},
		// encoding/json keeps the last of duplicate keys: it must not slip
		// past validation.
		{name: "json/duplicate key, last invalid", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", `"ada@example.com","email":"{{S}}"`), status: 422,
			checks: []malformedCheck{invalidEmail}},
		{name: "json/duplicate key, last mistyped", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", `"{{S}}"`, "name", `"Ada","name":42`), status: 400},
		{name: "json/1e400 into int", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", `"{{S}}"`, "weight_kg", `1e400`), status: 400},
		{name: "json/int64 overflow", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", `"{{S}}"`, "weight_kg", `92233720368547758070`), status: 400},
		{name: "json/fraction into int", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", `"{{S}}"`, "weight_kg", `1.5`), status: 400},
		{name: "json/string where int", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("weight_kg", `"{{S}}"`), status: 400},
		{name: "json/object where string", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("name", `{"x":"{{S}}"}`), status: 400},
		{name: "json/array where object", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("contacts", `[["{{S}}"]]`), status: 400},
		{name: "json/object where array", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("contacts", `{"name":"{{S}}"}`), status: 400},
		{name: "json/bool where string", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("name", `"{{S}}"`, "email", `true`), status: 400},
		{name: "json/invalid UTF-8 token", method: "POST", target: "/patients", header: malformedJSONH(),
			body: `{"email":"{{S}}","name":` + "\xff\xfe" + `}`, status: 400},
		// encoding/json turns invalid UTF-8 (and overlong forms, and lone
		// surrogates) inside strings into U+FFFD; the field's rule then
		// rejects it. Outside strings they are syntax errors.
		{name: "json/invalid UTF-8 in string", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", "\"{{S}}\xff\xfe@example.com\""), status: 422,
			checks: []malformedCheck{invalidEmail}},
		{name: "json/invalid UTF-8 in key", method: "POST", target: "/patients", header: malformedJSONH(),
			body: strings.Replace(malformedBody("email", "-"), "{", "{\"em\xffail\":\"{{S}}\",", 1), status: 422,
			checks: []malformedCheck{invalidEmail}},
		{name: "json/raw NUL in string", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", "\"{{S}}\x00@example.com\""), status: 400},
		{name: "json/raw NUL between tokens", method: "POST", target: "/patients", header: malformedJSONH(),
			body: "{\"email\":\"{{S}}\",\x00\"name\":\"x\"}", status: 400},
		{name: "json/escaped NUL in string", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", `"{{S}}\u0000@example.com"`), status: 422,
			checks: []malformedCheck{invalidEmail}},
		{name: "json/overlong UTF-8 in string", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("contacts", "[{\"name\":\"x\",\"phone\":\"+44\xc0\xaf{{S}}\"}]"), status: 422,
			checks: []malformedCheck{malformedPointers("#/contacts/0/phone")}},
		{name: "json/overlong UTF-8 token", method: "POST", target: "/patients", header: malformedJSONH(),
			body: "{\"email\":\"{{S}}\",\"name\":\xc0\xaf}", status: 400},
		{name: "json/lone surrogate escape", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", `"{{S}}\ud800@example.com"`), status: 422,
			checks: []malformedCheck{invalidEmail}},
		{name: "json/UTF-8 BOM", method: "POST", target: "/patients", header: malformedJSONH(),
			body: "\xef\xbb\xbf" + malformedBody("email", `"{{S}}"`), status: 400},
		{name: "json/UTF-16 body", method: "POST", target: "/patients", header: malformedJSONH(),
			body: "\xff\xfe{\x00\"\x00n\x00\"\x00:\x00\"\x00{{S}}\"\x00}\x00", status: 400},
		{name: "json/gzip body without decompression", method: "POST", target: "/patients",
			header: malformedJSONH("Content-Encoding", "gzip"),
			body:   "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff{{S}}", status: 400},
		{name: "content-type/text plain", method: "POST", target: "/patients",
			header: malformedH("Content-Type", "text/plain"), body: malformedBody("email", `"{{S}}"`), status: 415},
		{name: "content-type/xml garbage", method: "POST", target: "/patients",
			header: malformedH("Content-Type", "application/xml"), body: `<patient><name>{{S}}</nam`, status: 400},
		{name: "content-type/xml type mismatch", method: "POST", target: "/patients",
			header: malformedH("Content-Type", "application/xml"),
			body:   `<malformedPatient><Name>x</Name><WeightKG>{{S}}</WeightKG></malformedPatient>`, status: 400},
		{name: "content-type/xml nested 12000 deep", method: "POST", target: "/patients",
			header: malformedH("Content-Type", "application/xml"),
			body:   "<malformedPatient><Email>{{S}}</Email>" + strings.Repeat("<a>", 12000) + "</malformedPatient>", status: 400},
		{name: "content-type/xml entity expansion", method: "POST", target: "/patients",
			header: malformedH("Content-Type", "application/xml"),
			body: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "{{S}}"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
				`<malformedPatient><Name>&lol2;</Name></malformedPatient>`, status: 400},
		{name: "content-type/xml external entity", method: "POST", target: "/patients",
			header: malformedH("Content-Type", "text/xml"),
			body: `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
				`<malformedPatient><Name>&xxe;{{S}}</Name></malformedPatient>`, status: 400,
			checks: []malformedCheck{malformedBodyLacks("root:")}},
		{name: "content-type/multipart without boundary", method: "POST", target: "/patients",
			header: malformedH("Content-Type", "multipart/form-data"),
			body:   "--x\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{{S}}\r\n--x--\r\n", status: 400},
		{name: "content-type/multipart garbage", method: "POST", target: "/patients",
			header: malformedH("Content-Type", "multipart/form-data; boundary=xyz"),
			body:   "--xyz\r\nthis is not a part header {{S}}\r\n", status: 400},
		{name: "content-type/form bad escape", method: "POST", target: "/patients",
			header: malformedH("Content-Type", "application/x-www-form-urlencoded"),
			body:   "name={{S}}%zz&email=%", status: 400},
		{name: "content-type/missing with body", method: "POST", target: "/patients",
			body: malformedBody("email", `"{{S}}"`), status: 415},
		{name: "content-type/only parameters", method: "POST", target: "/patients",
			header: malformedH("Content-Type", "; charset=utf-8"), body: malformedBody("email", `"{{S}}"`), status: 415},
		{name: "size/over limit with Content-Length", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("email", `"{{S}}"`, "name", `"`+big+`"`), status: 413},
		{name: "size/over limit chunked", method: "POST", target: "/patients", header: malformedJSONH(), chunked: true,
			body: malformedBody("email", `"{{S}}"`, "name", `"`+big+`"`), status: 413},
		{name: "size/xml over limit chunked", method: "POST", target: "/patients", chunked: true,
			header: malformedH("Content-Type", "application/xml"),
			body:   "<malformedPatient><Name>{{S}}" + big + "</Name></malformedPatient>", status: 413},
		{name: "size/form over limit chunked", method: "POST", target: "/patients", chunked: true,
			header: malformedH("Content-Type", "application/x-www-form-urlencoded"),
			body:   "email={{S}}&name=" + big, status: 413},
		{name: "size/multipart over limit chunked", method: "POST", target: "/patients", chunked: true,
			header: malformedH("Content-Type", "multipart/form-data; boundary=xyz"),
			body:   strings.Replace(multipartBody, "name=\"name\"\r\n\r\n", "name=\"name\"\r\n\r\n{{S}}", 1), status: 413},
		{name: "size/deep nesting over limit with Content-Length", method: "POST", target: "/patients", header: malformedJSONH(),
			body: `{"email":"{{S}}","deep":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`, status: 413},
		{name: "size/Content-Length lies: claims 10 MB", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Content-Length: 10000000") + `{"email":"{{S}}"}`, status: 413},
		{name: "size/Content-Length lies: claims more, then half-close", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Content-Length: 500") + `{"email":"{{S}}","name":"x`,
			closeWrite: true, status: 400},
		{name: "size/Content-Length lies: claims more, connection held", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Content-Length: 500") + `{"email":"{{S}}","name":"x`,
			rawWait: time.Second, kind: malformedAny},
		// The connection stays open: net/http reads the rest as the next
		// request, and both answers are read.
		{name: "size/Content-Length lies: claims less", raw: "POST /patients HTTP/1.1\r\nHost: x\r\n" +
			"Content-Type: application/json\r\nContent-Length: 12\r\n\r\n" + `{"email":"{{S}}","name":"x"}` + "\r\n\r\n",
			pipelined: true, status: 400},
		{name: "chunked/invalid chunk size", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Transfer-Encoding: chunked") + "zz\r\n{\"email\":\"{{S}}\"}\r\n0\r\n\r\n", status: 400},
		{name: "chunked/chunk size overflows", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Transfer-Encoding: chunked") + "fffffffffffffffffff\r\n{\"email\":\"{{S}}\"}\r\n0\r\n\r\n", status: 400},
		{name: "chunked/huge chunk extension", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Transfer-Encoding: chunked") + "5;" + strings.Repeat("x", 20000) + "\r\n{\"a\":\r\n0\r\n\r\n", status: 400},
		{name: "chunked/truncated, then half-close", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Transfer-Encoding: chunked") + "40\r\n{\"email\":\"{{S}}\"",
			closeWrite: true, status: 400},
		// Transfer-Encoding overrides Content-Length (RFC 9112 §6.3):
		// net/http drops the Content-Length and reads the chunks.
		{name: "chunked/with a Content-Length too", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Content-Length: 4", "Transfer-Encoding: chunked") +
			"15\r\n{\"email\":\"{{S}}\",\r\n0\r\n\r\n", status: 400},
		// BodyLimit refuses from the header alone: no 100 Continue, no read.
		{name: "size/Expect 100-continue over limit", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Content-Length: 10000000", "Expect: 100-continue", "X-Request-Id: {{S}}<"), status: 413},
		{name: "size/two different Content-Lengths", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Content-Length: 5", "Content-Length: 6") + `{"a":1}`,
			status: 400, kind: malformedNotOurs},
		{name: "size/negative Content-Length", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Content-Length: -1") + `{}`, status: 400, kind: malformedNotOurs},

		// ---- 2. validation ----
		{name: "validation/every field fails", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("name", `"`+strings.Repeat("{{S}}", 20)+`"`, "email", `"{{S}}"`,
				"birth_date", `"{{S}}-1990-13-45"`, "weight_kg", `9999`,
				"contacts", `[{"name":"","phone":"{{S}}"}]`),
			status: 422, checks: []malformedCheck{malformedPointers("#/name", "#/email", "#/birth_date",
				"#/weight_kg", "#/contacts/0/name", "#/contacts/0/phone")}},
		{name: "validation/every field fails, in French", method: "POST", target: "/patients",
			header: malformedJSONH("Accept-Language", "fr-CA;q=0.9, *;q=0.1"),
			body: malformedBody("name", `""`, "email", `"{{S}}"`, "birth_date", `"{{S}}"`, "weight_kg", `-3`,
				"contacts", `[{"name":"ok","phone":"+4420"},{"name":"","phone":"{{S}}"}]`),
			status: 422, checks: []malformedCheck{malformedHeader("Content-Language", "fr"),
				malformedPointers("#/name", "#/email", "#/birth_date", "#/weight_kg",
					"#/contacts/0/phone", "#/contacts/1/name", "#/contacts/1/phone")}},
		{name: "validation/null contacts", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("contacts", `null`, "email", `"{{S}}"`), status: 422,
			checks: []malformedCheck{malformedPointers("#/email", "#/contacts")}},
		{name: "validation/impossible date", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("birth_date", `"2023-02-30"`, "name", `"{{S}}"`), status: 422,
			checks: []malformedCheck{malformedPointers("#/birth_date")}},
		{name: "validation/no contacts", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("contacts", `[]`, "name", `"{{S}}"`), status: 422,
			checks: []malformedCheck{malformedPointers("#/contacts")}},
		{name: "validation/1000 invalid contacts", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("contacts", contacts(1000, `"{{S}}"`)), status: 422,
			checks: []malformedCheck{malformedPointers("#/contacts")}},
		{name: "validation/contact index 7", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody("contacts", strings.Replace(contacts(9, `"+442071234567"`), `{"name":"c7","phone":"+442071234567"}`,
				`{"name":"c7","phone":"{{S}}"}`, 1)), status: 422,
			checks: []malformedCheck{malformedPointers("#/contacts/7/phone")}},
		{name: "query/limit 0", method: "GET", target: "/patients?limit=0", status: 422,
			checks: []malformedCheck{malformedParameter("limit")}},
		{name: "query/limit 101", method: "GET", target: "/patients?limit=101", status: 422,
			checks: []malformedCheck{malformedParameter("limit")}},
		{name: "query/limit negative", method: "GET", target: "/patients?limit=-9223372036854775808", status: 422,
			checks: []malformedCheck{malformedParameter("limit")}},
		{name: "query/limit not a number", method: "GET", target: "/patients?limit={{S}}", status: 400,
			checks: []malformedCheck{malformedParameter("limit")}},
		{name: "query/limit 1e400", method: "GET", target: "/patients?limit=1e400&x={{S}}", status: 400,
			checks: []malformedCheck{malformedParameter("limit")}},
		{name: "query/limit overflows int64", method: "GET", target: "/patients?limit=99999999999999999999&x={{S}}", status: 400,
			checks: []malformedCheck{malformedParameter("limit")}},
		{name: "query/limit encoded NUL", method: "GET", target: "/patients?limit=%00{{S}}", status: 400,
			checks: []malformedCheck{malformedParameter("limit")}},
		{name: "query/limit encoded CRLF header injection", method: "GET",
			target: "/patients?limit=1%0d%0aSet-Cookie:%20{{S}}=1", status: 400,
			checks: []malformedCheck{malformedParameter("limit"), malformedHeaderAbsent("Set-Cookie")}},
		{name: "path/id not a uuid", method: "GET", target: "/patients/p-1", status: 422,
			checks: []malformedCheck{malformedParameter("id")}},
		{name: "path/unknown uuid", method: "GET", target: "/patients/00000000-0000-4000-8000-000000000000", status: 404,
			checks: []malformedCheck{malformedMember("detail", "No patient has this id.")}},

		// ---- 3. URLs and headers ----
		{name: "url/raw CRLF in path", raw: "GET /patients/a\r\nSet-Cookie: x=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			status: 400, kind: malformedNotOurs, checks: []malformedCheck{malformedHeaderAbsent("Set-Cookie")}},
		{name: "url/raw control byte in path", raw: malformedRaw("GET /patients/a\x01b HTTP/1.1"),
			status: 400, kind: malformedNotOurs},
		{name: "url/raw DEL in path", raw: malformedRaw("GET /patients/a\x7fb HTTP/1.1"),
			status: 400, kind: malformedNotOurs},
		{name: "url/raw control byte in query", raw: malformedRaw("GET /patients?limit=1\x01{{S}} HTTP/1.1"),
			status: 400, kind: malformedNotOurs},
		{name: "url/raw tab in query", raw: malformedRaw("GET /patients?limit=1\t{{S}} HTTP/1.1"),
			status: 400, kind: malformedNotOurs},
		{name: "url/encoded CRLF in path", method: "GET", target: "/patients/x%0d%0aSet-Cookie:%20a=1", status: 422,
			checks: []malformedCheck{malformedParameter("id"), malformedHeaderAbsent("Set-Cookie"),
				malformedMember("instance", "/patients/x%0d%0aSet-Cookie:%20a=1")}},
		{name: "url/invalid percent-encoding", raw: malformedRaw("GET /patients/%zz HTTP/1.1"),
			status: 400, kind: malformedNotOurs},
		{name: "url/truncated percent-encoding", raw: malformedRaw("GET /patients/%2 HTTP/1.1"),
			status: 400, kind: malformedNotOurs},
		{name: "url/encoded NUL in path", method: "GET", target: "/patients/%00", status: 422,
			checks: []malformedCheck{malformedParameter("id"), malformedMember("instance", "/patients/%00")}},
		// Echo's router lets a trailing :id swallow slashes: the id is
		// "../../etc/passwd", and the handler rejects it.
		{name: "url/dot segments", raw: malformedRaw("GET /patients/../../etc/passwd HTTP/1.1"), status: 422,
			checks: []malformedCheck{malformedParameter("id"), malformedBodyLacks("root:")}},
		{name: "url/slashes in the id", method: "GET", target: "/patients/a/b/c", status: 422,
			checks: []malformedCheck{malformedParameter("id")}},
		{name: "url/empty id", method: "GET", target: "/patients/", status: 404},
		{name: "url/encoded invalid UTF-8 in path", method: "GET", target: "/patients/%ff%fe", status: 422,
			checks: []malformedCheck{malformedParameter("id"), malformedMember("instance", "/patients/%ff%fe")}},
		{name: "url/encoded overlong UTF-8 in path", method: "GET", target: "/patients/%c0%af", status: 422,
			checks: []malformedCheck{malformedParameter("id"), malformedMember("instance", "/patients/%c0%af")}},
		{name: "url/raw overlong UTF-8 in path", raw: malformedRaw("GET /patients/\xc0\xaf HTTP/1.1"), status: 422,
			checks: []malformedCheck{malformedParameter("id"), malformedMember("instance", "/patients/%C0%AF")}},
		{name: "url/dot segment as id", raw: malformedRaw("GET /patients/.. HTTP/1.1"), status: 422,
			checks: []malformedCheck{malformedParameter("id")}},
		{name: "url/encoded dot segments in problem pages", method: "GET", target: "/problems/%2e%2e/%2e%2e/etc/passwd", status: 404,
			checks: []malformedCheck{malformedBodyLacks("root:")}},
		{name: "url/raw dot segments in problem pages", raw: malformedRaw("GET /problems/../../../etc/passwd HTTP/1.1"), status: 404,
			checks: []malformedCheck{malformedBodyLacks("root:")}},
		{name: "url/network-path reference", raw: malformedRaw("GET //evil.example/patients HTTP/1.1"), status: 404,
			checks: []malformedCheck{malformedInstanceSafe(2048), malformedBodyLacks(`"//evil`)}},
		{name: "url/absolute-form target", raw: malformedRaw("GET http://evil.example/nowhere?x={{S}} HTTP/1.1"), status: 404,
			checks: []malformedCheck{malformedMember("instance", "/nowhere"), malformedBodyLacks("evil.example")}},
		{name: "url/fragment and markup in the request target", raw: malformedRaw("GET /nowhere#<frag>?x={{S}} HTTP/1.1"), status: 404,
			checks: []malformedCheck{malformedMember("instance", "/nowhere%23%3Cfrag%3E")}},
		{name: "url/brackets in path", raw: malformedRaw("GET /nowhere/[::1] HTTP/1.1"), status: 404,
			checks: []malformedCheck{malformedMember("instance", "/nowhere/%5B::1%5D")}},
		{name: "url/unsafe printable bytes in path", raw: malformedRaw("GET /nowhere/{a}|b^c`d\\e\"f HTTP/1.1"), status: 404,
			checks: []malformedCheck{malformedInstanceSafe(2048)}},
		{name: "url/very long id", method: "GET", target: "/patients/" + longID, status: 422,
			checks: []malformedCheck{malformedParameter("id"), malformedNoMember("instance")}},
		{name: "url/very long unknown path", method: "GET", target: "/" + strings.Repeat("x/", 50000) + "?q={{S}}", status: 404,
			checks: []malformedCheck{malformedNoMember("instance")}},
		{name: "url/long path that grows when escaped", raw: malformedRaw("GET /nowhere/" + strings.Repeat("<>", 700) + " HTTP/1.1"), status: 404,
			checks: []malformedCheck{malformedNoMember("instance")}},
		{name: "url/long escaped path", method: "GET", target: "/nowhere/" + escapedGrowth, status: 404,
			checks: []malformedCheck{malformedNoMember("instance")}},
		{name: "route/unknown", method: "GET", target: "/admin?token={{S}}", status: 404,
			checks: []malformedCheck{malformedMember("instance", "/admin")}},
		{name: "route/HEAD unknown", method: "HEAD", target: "/admin", status: 404},
		{name: "route/wrong method on collection", method: "DELETE", target: "/patients", status: 405,
			checks: []malformedCheck{malformedAllow("GET", "POST")}},
		{name: "route/wrong method on item", method: "PUT", target: "/patients/" + malformedKnownID, header: malformedJSONH(),
			body: malformedBody("email", `"{{S}}"`), status: 405, checks: []malformedCheck{malformedAllow("GET")}},
		{name: "route/lower-case method", raw: malformedRaw("get /patients?limit=5 HTTP/1.1"), status: 405,
			checks: []malformedCheck{malformedAllow("GET", "POST")}},
		{name: "route/unknown method", raw: malformedRaw("BREW /patients HTTP/1.1"), status: 405,
			checks: []malformedCheck{malformedAllow("GET", "POST")}},
		{name: "headers/one huge header", raw: malformedRaw("GET /patients HTTP/1.1", hugeHeader),
			status: 431, kind: malformedNotOurs},
		{name: "headers/many headers over the limit", raw: malformedRaw("GET /patients HTTP/1.1", manyHeaders...),
			status: 431, kind: malformedNotOurs},
		{name: "headers/2000 headers under the limit", method: "POST", target: "/patients", header: someHeaders,
			body: malformedBody("email", `"{{S}}"`), status: 422, checks: []malformedCheck{invalidEmail}},
		{name: "headers/missing Host", raw: malformedRawNoHost("GET /patients HTTP/1.1"),
			status: 400, kind: malformedNotOurs},
		{name: "headers/markup in Host", raw: malformedRawNoHost("GET /patients HTTP/1.1", "Host: <script>{{S}}"),
			status: 400, kind: malformedNotOurs},
		{name: "headers/invalid header name", raw: malformedRaw("GET /patients HTTP/1.1", "Bad Header: {{S}}"),
			status: 400, kind: malformedNotOurs},
		{name: "headers/CR in header value", raw: malformedRaw("GET /patients HTTP/1.1", "X-A: a\rSet-Cookie: {{S}}"),
			status: 400, kind: malformedNotOurs},
		{name: "headers/unknown Expect", method: "POST", target: "/patients",
			header: malformedJSONH("Expect", "{{S}}-continue"), body: `{}`, status: 417, kind: malformedNotOurs},
		{name: "accept/huge", method: "POST", target: "/patients",
			header: malformedJSONH("Accept", strings.Repeat("text/html;q=0.9, ", 30000)), body: malformedBody("email", `"{{S}}"`),
			status: 422, checks: []malformedCheck{invalidEmail}},
		{name: "accept/xml hidden past the scan bound", method: "GET", target: "/patients?limit=0",
			header: malformedH("Accept", strings.Repeat(",", 5000)+"application/problem+xml"), status: 422},
		{name: "accept/malformed", method: "GET", target: "/patients?limit=0",
			header: malformedH("Accept", `;;;,,q=,application/xml;q=abc, text/xml;q=1.5, */*;q=-1, /, application/`), status: 422},
		{name: "accept/markup", method: "GET", target: "/patients?limit={{S}}",
			header: malformedH("Accept", `<script>alert(1)</script>`), status: 400},
		{name: "accept/xml problem for a markup path", raw: malformedRaw("GET /nowhere/]]><!--x--><x>&amp;\"' HTTP/1.1",
			"Accept: application/problem+xml", "X-Request-Id: <x>{{S}}</x>"), status: 404, kind: malformedXML,
			reflected: []string{"X-Request-Id"}},
		{name: "accept-language/huge", method: "GET", target: "/patients?limit=0",
			header: malformedH("Accept-Language", strings.Repeat("xx-YY;q=0.5, ", 40000)), status: 422,
			checks: []malformedCheck{malformedHeader("Content-Language", "en")}},
		{name: "accept-language/malformed", method: "GET", target: "/patients?limit=0",
			header: malformedH("Accept-Language", `fr;q=abc, de;q=2, ja;q=-1, ;q=1, pt-BR;q=0.0001, =, ;;;`), status: 422,
			checks: []malformedCheck{malformedHeader("Content-Language", "en")}},
		// Empty parameters are skipped leniently: "es;;;" is es at q=1.
		{name: "accept-language/empty parameters", method: "GET", target: "/patients?limit=0",
			header: malformedH("Accept-Language", `fr;q=abc, es;;;`), status: 422,
			checks: []malformedCheck{malformedHeader("Content-Language", "es")}},
		{name: "accept-language/markup and underscores", method: "GET", target: "/patients?limit=0",
			header: malformedH("Accept-Language", `<script>, pt_br;q=0.5`), status: 422,
			checks: []malformedCheck{malformedHeader("Content-Language", "pt-BR")}},
		{name: "traceparent/version ff", method: "GET", target: "/patients?limit=0",
			header: malformedH("Traceparent", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"), status: 422,
			checks: []malformedCheck{malformedNoMember("trace_id")}},
		{name: "traceparent/all-zero trace id", method: "GET", target: "/patients?limit=0",
			header: malformedH("Traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01"), status: 422,
			checks: []malformedCheck{malformedNoMember("trace_id")}},
		{name: "traceparent/upper-case hex", method: "GET", target: "/patients?limit=0",
			header: malformedH("Traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"), status: 422,
			checks: []malformedCheck{malformedNoMember("trace_id")}},
		{name: "traceparent/markup", method: "GET", target: "/patients?limit=0",
			header: malformedH("Traceparent", "00-<script>alert(1)</script>{{S}}aaaaaaaaaa-00f067aa0ba902b7-01"), status: 422,
			checks: []malformedCheck{malformedNoMember("trace_id")}},
		{name: "traceparent/huge", method: "GET", target: "/patients?limit=0",
			header: malformedH("Traceparent", malformedValidTP+"-"+strings.Repeat("{{S}}", 20000)), status: 422,
			checks: []malformedCheck{malformedNoMember("trace_id")}},
		{name: "traceparent/valid (control)", method: "GET", target: "/patients?limit=0",
			header: malformedH("Traceparent", malformedValidTP), status: 422,
			checks: []malformedCheck{malformedMember("trace_id", malformedValidTID)}},
		{name: "request-id/gigantic", method: "GET", target: "/patients?limit=0",
			header: malformedH("X-Request-Id", strings.Repeat("{{S}}", 5000)), status: 422,
			reflected: []string{"X-Request-Id"},
			checks:    []malformedCheck{malformedNoMember("request_id"), malformedObserve("X-Request-Id")}},
		{name: "request-id/markup", method: "GET", target: "/patients?limit=0",
			header: malformedH("X-Request-Id", `<script>alert("{{S}}")</script>`), status: 422,
			reflected: []string{"X-Request-Id"},
			checks:    []malformedCheck{malformedNoMember("request_id"), malformedObserve("X-Request-Id")}},
		{name: "request-id/129 bytes", method: "GET", target: "/patients?limit=0",
			header: malformedH("X-Request-Id", "{{S}}"+strings.Repeat("a", 129-len("SECRET-000"))), status: 422,
			reflected: []string{"X-Request-Id"},
			checks:    []malformedCheck{malformedNoMember("request_id"), malformedObserve("X-Request-Id")}},
		{name: "request-id/non-UTF-8 bytes", raw: malformedRaw("GET /patients?limit=0 HTTP/1.1", "X-Request-Id: \xff\xfe{{S}}"),
			status: 422, reflected: []string{"X-Request-Id"},
			checks: []malformedCheck{malformedNoMember("request_id"), malformedObserve("X-Request-Id")}},
		{name: "request-id/on a 413", method: "POST", target: "/patients",
			header: malformedJSONH("X-Request-Id", `"><img src=x>{{S}}`), body: malformedBody("name", `"`+big+`"`),
			status: 413, reflected: []string{"X-Request-Id"},
			checks: []malformedCheck{malformedNoMember("request_id"), malformedObserve("X-Request-Id")}},
		{name: "request-id/valid 128 bytes (control)", method: "GET", target: "/patients?limit=0",
			header: malformedH("X-Request-Id", strings.Repeat("r", 128)), status: 422,
			checks: []malformedCheck{malformedMember("request_id", strings.Repeat("r", 128))}},

		// ---- 4. problem type pages ----
		{name: "pages/markup slug", method: "GET", target: "/problems/<script>alert(1)</script>", status: 404,
			checks: []malformedCheck{malformedInstanceSafe(2048)}},
		{name: "pages/raw markup slug", raw: malformedRaw("GET /problems/<script>alert(1)</script> HTTP/1.1"), status: 404,
			checks: []malformedCheck{malformedInstanceSafe(2048),
				malformedMember("instance", "/problems/%3Cscript%3Ealert%281%29%3C/script%3E")}},
		{name: "pages/markup query", method: "GET", target: "/problems/not-found?x=<script>alert('{{S}}')</script>",
			status: 200, kind: malformedHTML},
		{name: "pages/raw quote-breaking query", raw: malformedRaw(`GET /problems/not-found?x="><svg/onload=alert(1)>{{S}} HTTP/1.1`),
			status: 200, kind: malformedHTML, checks: []malformedCheck{malformedBodyLacks("<svg")}},
		{name: "pages/unknown slug", method: "GET", target: "/problems/no-such-problem", status: 404},
		{name: "pages/upper-case slug", method: "GET", target: "/problems/NOT-FOUND", status: 404},
		{name: "pages/trailing segment", method: "GET", target: "/problems/not-found/extra", status: 404},
		{name: "pages/encoded NUL slug", method: "GET", target: "/problems/not-found%00", status: 404,
			checks: []malformedCheck{malformedMember("instance", "/problems/not-found%00")}},
		{name: "pages/wrong method", method: "POST", target: "/problems/not-found", header: malformedJSONH(),
			body: validBody, status: 405, checks: []malformedCheck{malformedAllow("GET")}},
	}
	return cases
}

// ---- running ----

func TestMalformedRequests(t *testing.T) {
	s := malformedStart(t)
	cases := malformedCases()
	if len(cases) < 70 {
		t.Fatalf("only %d cases; the suite promises at least 70", len(cases))
	}
	names := map[string]bool{}
	for _, c := range cases {
		if names[c.name] {
			t.Fatalf("duplicate case name %q", c.name)
		}
		names[c.name] = true
	}
	t.Logf("%d cases", len(cases))

	seenTypes := map[string]bool{}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logStart := len(s.logs.String())
			if typ := s.run(t, c, fmt.Sprintf("SECRET-%03d", i)); typ != "" {
				seenTypes[typ] = true
			}
			s.mustServe(t)
			// This case's handler has finished once the next request is
			// served (bar the held connection, which the end checks): its
			// records are in.
			malformedNoErrorRecords(t, s.logs.String()[logStart:])
		})
	}

	t.Run("afterwards", func(t *testing.T) {
		s.mustServe(t)
		s.mustCreate(t)
		// Every type URI the problems carried resolves to its page.
		for typ := range seenTypes {
			resp, err := s.client.Get(s.url + typ)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Errorf("type %s: %d %s", typ, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
		}
	})

	// The same requests again, all at once: the race detector watches the
	// shared templates, buffers and header values.
	t.Run("concurrently", func(t *testing.T) {
		for i, c := range malformedCases() {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				s.run(t, c, fmt.Sprintf("SECRET-%03d", 500+i))
			})
		}
	})

	t.Run("at the end", func(t *testing.T) {
		s.mustServe(t)
		s.mustCreate(t)
		malformedNoErrorRecords(t, s.logs.String())
		if l := s.httpLog.String(); strings.Contains(l, "panic") {
			t.Errorf("net/http or Echo logged a panic:\n%s", malformedClip([]byte(l)))
		} else if l != "" {
			t.Logf("net/http and Echo logged:\n%s", malformedClip([]byte(l)))
		}
	})
}

// run sends one case with its secret planted, checks the response and
// returns the problem type it carried, if any.
func (s *malformedServer) run(t *testing.T, c malformedCase, secret string) string {
	t.Helper()
	planted := malformedPlant(&c, secret)
	res := s.do(t, &c)
	malformedVerify(t, &c, res)
	if planted {
		malformedNoSecret(t, &c, res, secret)
	}
	typ, _ := res.doc["type"].(string)
	return typ
}

// mustCreate checks that a valid patient is still created.
func (s *malformedServer) mustCreate(t *testing.T) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.url+"/patients", strings.NewReader(malformedBody()))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("the server stopped serving: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Errorf("valid POST /patients: %d %s", resp.StatusCode, malformedClip(b))
	}
}

// malformedPlant replaces the secret mark in every part of the request and
// reports whether the case planted its secret anywhere.
func malformedPlant(c *malformedCase, secret string) bool {
	planted := false
	rep := func(s string) string {
		if strings.Contains(s, malformedSecretMark) {
			planted = true
			return strings.ReplaceAll(s, malformedSecretMark, secret)
		}
		return s
	}
	c.target, c.body, c.raw = rep(c.target), rep(c.body), rep(c.raw)
	if c.header != nil {
		h := make(http.Header, len(c.header))
		for k, vs := range c.header {
			for _, v := range vs {
				h.Add(k, rep(v))
			}
		}
		c.header = h
	}
	return planted
}

func (s *malformedServer) do(t *testing.T, c *malformedCase) *malformedResult {
	t.Helper()
	if c.raw != "" {
		res, err := malformedRoundTrip(s.addr, c)
		if err != nil {
			if c.kind == malformedAny {
				t.Logf("no response: %v", err)
				return &malformedResult{noResp: err}
			}
			t.Fatalf("raw request: %v", err)
		}
		return res
	}
	if path, _, _ := strings.Cut(c.target, "?"); strings.Contains(path, "SECRET-") {
		t.Fatal("bad case: a secret in the path comes back as the instance by design")
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, s.url+c.target, body)
	if err != nil {
		t.Fatalf("bad case: %v", err)
	}
	if c.chunked {
		req.Body = io.NopCloser(strings.NewReader(c.body))
		req.ContentLength = -1
		req.GetBody = nil
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, malformedClip([]byte(c.target)), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	if c.chunked && len(resp.TransferEncoding) > 0 {
		t.Logf("response Transfer-Encoding %v", resp.TransferEncoding)
	}
	return &malformedResult{status: resp.StatusCode, header: resp.Header, body: b}
}

// malformedRoundTrip writes the raw request and reads one response, both
// at once, so that a server that answers before reading everything is
// heard. The deadline only guards against a hang.
func malformedRoundTrip(addr string, c *malformedCase) (*malformedResult, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	wait := c.rawWait
	if wait == 0 {
		wait = 15 * time.Second
	}
	if err := conn.SetDeadline(time.Now().Add(wait)); err != nil {
		return nil, err
	}
	written := make(chan error, 1)
	go func() {
		_, err := io.WriteString(conn, c.raw)
		if err == nil && c.closeWrite {
			err = conn.(*net.TCPConn).CloseWrite()
		}
		written <- err
	}()
	defer func() { conn.Close(); <-written }()
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	res := &malformedResult{status: resp.StatusCode, header: resp.Header, body: b}
	for c.pipelined {
		next, err := http.ReadResponse(br, nil)
		if err != nil {
			break // the server closed the connection
		}
		b, _ := io.ReadAll(next.Body)
		next.Body.Close()
		res.later = append(res.later, &malformedResult{status: next.StatusCode, header: next.Header, body: b})
	}
	return res, nil
}

// malformedVerify checks what every response must satisfy.
func malformedVerify(t *testing.T, c *malformedCase, r *malformedResult) {
	t.Helper()
	if r.noResp != nil {
		return // malformedAny: the connection gave no answer, which is allowed
	}
	if c.pipelined && len(r.later) == 0 {
		t.Errorf("no answer to the bytes after the declared body")
	}
	for _, l := range r.later {
		t.Logf("next response on the connection: %d %q %q", l.status, l.header.Get("Content-Type"), malformedClip(l.body))
		if l.status < 400 || l.status >= 500 {
			t.Errorf("the bytes after the declared body got a %d", l.status)
		}
	}
	if r.status >= 500 {
		t.Errorf("status %d: a hostile request must never get a 5xx; body %s", r.status, malformedClip(r.body))
	}
	if c.kind == malformedAny {
		if r.status != http.StatusBadRequest && r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 400 or 413", r.status)
		}
	} else if r.status != c.status {
		t.Errorf("status %d, want %d; body %s", r.status, c.status, malformedClip(r.body))
	}
	if bytes.Contains(bytes.ToLower(r.body), []byte("<script")) {
		t.Errorf("body carries markup: %s", malformedClip(r.body))
	}
	for _, leak := range []string{"malformedPatient", "malformedContact", "malformedList", "strconv.", "json: ",
		"Unmarshal type error", "Syntax error", "offset=", "goroutine ", ".go:", "apierrors_test"} {
		if bytes.Contains(r.body, []byte(leak)) {
			t.Errorf("body leaks internals (%q): %s", leak, malformedClip(r.body))
		}
	}
	switch c.kind {
	case malformedNotOurs:
		if ct := r.header.Get("Content-Type"); strings.Contains(ct, "problem") {
			t.Errorf("Content-Type %q: expected net/http's own plain response", ct)
		}
		t.Logf("net/http answered itself: %d %q", r.status, malformedClip(r.body))
	case malformedHTML:
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type %q, want text/html", ct)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("Content-Security-Policy %q", csp)
		}
		if bytes.Contains(r.body, []byte("alert(")) || bytes.Contains(r.body, []byte("SECRET-")) {
			t.Errorf("page reflects the query: %s", malformedClip(r.body))
		}
	case malformedXML:
		malformedVerifyXML(t, r)
	default:
		malformedVerifyProblem(t, c, r)
	}
	for _, check := range c.checks {
		check(t, r)
	}
}

func malformedVerifyProblem(t *testing.T, c *malformedCase, r *malformedResult) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != problem.MediaType {
		t.Errorf("Content-Type %q, want %s", ct, problem.MediaType)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if cl := r.header.Get("Content-Language"); !slices.Contains(malformedLanguages, cl) {
		t.Errorf("Content-Language %q is not a supported language", cl)
	}
	if v := r.header.Get("X-Content-Type-Options"); v != "nosniff" {
		t.Errorf("X-Content-Type-Options %q, want nosniff", v)
	}
	if vary := strings.Join(r.header.Values("Vary"), ","); !strings.Contains(vary, "Accept") {
		t.Errorf("Vary %q does not name Accept", vary)
	}
	if c.method == http.MethodHead {
		if len(r.body) != 0 {
			t.Errorf("HEAD response has a body: %s", malformedClip(r.body))
		}
		return
	}
	if err := problemtest.ValidateSchema(r.body); err != nil {
		t.Errorf("RFC 9457 Appendix A schema rejects %s: %v", malformedClip(r.body), err)
	}
	if err := json.Unmarshal(r.body, &r.doc); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, malformedClip(r.body))
	}
	if st, _ := r.doc["status"].(float64); int(st) != r.status {
		t.Errorf("body status %v, HTTP status %d", r.doc["status"], r.status)
	}
	resp := &http.Response{StatusCode: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body))}
	p, err := problem.Parse(resp)
	if err != nil {
		t.Errorf("problem.Parse: %v", err)
	} else if want := malformedSlug(r.status); p.Type != want {
		t.Errorf("type %q, want %q", p.Type, want)
	}
	if id, ok := r.doc["request_id"].(string); ok && !middleware.ValidRequestID(id) {
		t.Errorf("request_id %q is not a valid id", id)
	}
}

func malformedVerifyXML(t *testing.T, r *malformedResult) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != problem.MediaTypeXML {
		t.Errorf("Content-Type %q, want %s", ct, problem.MediaTypeXML)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
	if cl := r.header.Get("Content-Language"); !slices.Contains(malformedLanguages, cl) {
		t.Errorf("Content-Language %q is not a supported language", cl)
	}
	if bytes.Contains(r.body, []byte("<x>")) || bytes.Contains(r.body, []byte("<!--x")) || bytes.Contains(r.body, []byte("]]>")) {
		t.Errorf("XML body carries the path's markup unescaped: %s", malformedClip(r.body))
	}
	resp := &http.Response{StatusCode: r.status, Header: r.header, Body: io.NopCloser(bytes.NewReader(r.body))}
	p, err := problem.Parse(resp)
	if err != nil {
		t.Fatalf("problem.Parse: %v: %s", err, malformedClip(r.body))
	}
	if p.Status != r.status || p.Type != malformedSlug(r.status) {
		t.Errorf("parsed %+v", p)
	}
	if _, ok := p.Extensions["request_id"]; ok {
		t.Errorf("request_id echoed for a hostile id: %v", p.Extensions["request_id"])
	}
	// The instance must still be a URI reference: check it as JSON would.
	doc, _ := json.Marshal(p)
	if err := problemtest.ValidateSchema(doc); err != nil {
		t.Errorf("the parsed problem %s fails the schema: %v", doc, err)
	}
}

func malformedSlug(code int) string {
	return malformedTypeBase + status.Code(code).Slug()
}

// malformedNoSecret asserts that nothing the case planted comes back.
func malformedNoSecret(t *testing.T, c *malformedCase, r *malformedResult, secret string) {
	t.Helper()
	for _, l := range r.later {
		malformedNoSecret(t, c, l, secret)
	}
	if bytes.Contains(r.body, []byte(secret)) {
		t.Errorf("body reflects the planted %s: %s", secret, malformedClip(r.body))
	}
	for k, vs := range r.header {
		if strings.Contains(k, secret) {
			t.Errorf("header name %q reflects the planted secret", k)
		}
		for _, v := range vs {
			if strings.Contains(v, secret) {
				if slices.Contains(c.reflected, k) {
					t.Logf("observed: Echo reflects the planted secret in the %s response header", k)
					continue
				}
				t.Errorf("header %s reflects the planted %s: %q", k, secret, malformedClip([]byte(v)))
			}
		}
	}
}

// mustServe sends a known-good request on a fresh connection.
func (s *malformedServer) mustServe(t *testing.T) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url+malformedGoodPath, nil)
	req.Close = true
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("the server stopped serving: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"limit":5`)) {
		t.Fatalf("known-good request: %d %s", resp.StatusCode, malformedClip(b))
	}
}

// malformedNoErrorRecords asserts that no ERROR record was logged: every
// case is a client error, and 4xx must never be logged as a server error.
func malformedNoErrorRecords(t *testing.T, logs string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %v: %s", err, malformedClip([]byte(line)))
			continue
		}
		if rec["level"] == "ERROR" {
			t.Errorf("ERROR record for a client error: %s", malformedClip([]byte(line)))
		}
		if st, ok := rec["status"].(float64); ok && st >= 500 {
			t.Errorf("record of a %v response: %s", st, malformedClip([]byte(line)))
		}
	}
}

// TestMalformedObservations records how net/http and Echo treat requests
// that do not end in a 4xx problem, for the record. It judges only what
// is ours: a problem body is never a 5xx and always schema-valid, and
// the server keeps serving. The statuses are logged, not asserted: they
// belong to net/http and Echo, which may change them.
func TestMalformedObservations(t *testing.T) {
	s := malformedStart(t)
	manyParams := strings.Repeat("a&", 10001) + "limit=0"
	observations := []malformedCase{
		// net/http answers 501 itself, before Echo sees the request.
		{name: "Transfer-Encoding gzip", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Transfer-Encoding: gzip") + "{}"},
		{name: "Transfer-Encoding twice", raw: malformedRaw("POST /patients HTTP/1.1",
			"Content-Type: application/json", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked") + "0\r\n\r\n"},
		// net/url drops pairs it cannot decode, and Echo ignores the
		// error, so the handler sees no limit and uses its default.
		{name: "query with invalid escape", method: "GET", target: "/patients?limit=%zz"},
		{name: "query with a semicolon", method: "GET", target: "/patients?limit=0;x=1"},
		{name: "query with more than 10000 parameters", method: "GET", target: "/patients?" + manyParams},
		// encoding/json's Decoder reads one value: what follows is ignored.
		{name: "JSON with trailing garbage", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody() + `<script>garbage`},
		{name: "two JSON documents", method: "POST", target: "/patients", header: malformedJSONH(),
			body: malformedBody() + malformedBody("email", `"not-an-email"`)},
		// Echo compares media types case-sensitively.
		{name: "upper-case media type", method: "POST", target: "/patients",
			header: malformedH("Content-Type", "Application/JSON"), body: malformedBody()},
		{name: "HTTP/2 preface on HTTP/1", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
		{name: "OPTIONS asterisk", raw: malformedRaw("OPTIONS * HTTP/1.1")},
		{name: "CONNECT authority-form", raw: malformedRaw("CONNECT evil.example:443 HTTP/1.1")},
		{name: "OPTIONS on a route", method: "OPTIONS", target: "/patients"},
	}
	for _, c := range observations {
		t.Run(c.name, func(t *testing.T) {
			res := s.do(t, &c)
			ct := res.header.Get("Content-Type")
			t.Logf("observed %d %q Allow=%q body %q", res.status, ct, res.header.Get("Allow"), malformedClip(res.body))
			if ct == problem.MediaType {
				if res.status >= 500 {
					t.Errorf("our problem is a %d", res.status)
				}
				if err := problemtest.ValidateSchema(res.body); err != nil {
					t.Errorf("schema: %v", err)
				}
			}
			s.mustServe(t)
		})
	}
	malformedNoErrorRecords(t, s.logs.String())
}
