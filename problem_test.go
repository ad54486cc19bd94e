// End-to-end tests across the packages: the status table, the problem
// encoder and parser, and the Echo middleware, through a real server.
package apierrors_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// TestEveryDocumentedCodeRoundTrips takes each documented code through the
// status table, the problem encoder, the net/http writer and the consumer
// parser, in JSON and XML, and checks nothing is lost on the way.
func TestEveryDocumentedCodeRoundTrips(t *testing.T) {
	for _, code := range status.All() {
		if c, ok := status.Lookup(int(code)); !ok || c != code {
			t.Errorf("Lookup(%d) = %v, %v", code, c, ok)
		}
		if c, ok := status.ByName(code.Name()); !ok || c != code {
			t.Errorf("ByName(%s) = %v, %v", code.Name(), c, ok)
		}
		p := problem.New(code).WithInstance("/patients/p-1")

		body, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := problemtest.ValidateSchema(body); err != nil {
			t.Errorf("%v: Appendix A schema rejects %s: %v", code, body, err)
		}
		var back problem.Problem
		if err := json.Unmarshal(body, &back); err != nil {
			t.Fatal(err)
		}
		if back.Status != int(code) || back.Title != code.Title() || back.Detail != code.Description() || back.Type != problem.BlankType {
			t.Errorf("%v: JSON round trip gave %+v", code, back)
		}

		if !code.IsError() {
			continue // Write sends error codes only
		}
		for _, accept := range []string{"application/json", "application/xml"} {
			r := httptest.NewRequest("GET", "/patients/p-1", nil)
			r.Header.Set("Accept", accept)
			w := httptest.NewRecorder()
			if err := problem.Write(w, r, p); err != nil {
				t.Fatal(err)
			}
			if w.Code != int(code) {
				t.Errorf("%v via %s: HTTP status %d", code, accept, w.Code)
			}
			got, err := problem.Parse(w.Result())
			if err != nil {
				t.Fatalf("%v via %s: %v", code, accept, err)
			}
			if got.Status != int(code) || got.Title != code.Title() || got.Detail != code.Description() || got.Instance != "/patients/p-1" {
				t.Errorf("%v via %s: parsed %+v", code, accept, got)
			}
		}
	}
}

const typeBase = "https://api.virtuheal.com/problems/"

// Domain errors, as a service defines them.
var (
	errPatientNotFound = errors.New("patient not found")
	errDuplicateEmail  = errors.New("email already registered")
)

type lockedError struct{ record string }

func (e *lockedError) Error() string { return "record " + e.record + " is locked" }

// v5Error has Echo v5's StatusCode() int.
type v5Error struct{ code int }

func (e v5Error) Error() string   { return fmt.Sprintf("v5 error %d", e.code) }
func (e v5Error) StatusCode() int { return e.code }

// overloaded carries its own Retry-After.
type overloaded struct{}

func (overloaded) Error() string             { return "queue full" }
func (overloaded) RetryAfter() time.Duration { return 90 * time.Second }

type newPatient struct {
	Name     string `json:"name" validate:"required"`
	Email    string `json:"email" validate:"required,email"`
	Contacts []struct {
		Phone string `json:"phone" validate:"required,e164"`
	} `json:"contacts" validate:"dive"`
}

// e2eServer is a real Echo server with the library mounted as the README
// says, and one route per mapping row.
func e2eServer(t *testing.T) (*httptest.Server, *problemtest.Logs) {
	t.Helper()
	logs := &problemtest.Logs{}
	e := echo.New()
	middleware.Mount(e, middleware.Config{
		TypeBase: typeBase,
		Rules: []middleware.Rule{
			middleware.Is(errPatientNotFound, status.NotFound),
			middleware.Is(errDuplicateEmail, status.Conflict).WithDetail("A patient with this email already exists."),
			middleware.As[*lockedError](status.Locked),
		},
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	e.Use(echomw.RequestID())
	e.Validator = middleware.NewValidator()

	fail := func(err error) echo.HandlerFunc { return func(echo.Context) error { return err } }
	// Row 1: *problem.Problem.
	e.GET("/problem", fail(problem.New(status.Conflict).WithDetail("Patient p-1 was changed meanwhile.").With("patient_id", "p-1")))
	e.GET("/problem/custom", fail(problem.New(status.Forbidden).WithType("https://example.com/probs/out-of-credit").
		WithDetail("Your current balance is 30, but that costs 50.").WithInstance("/account/12345/msgs/abc")))
	e.GET("/problem/custom-title", fail(&problem.Problem{Status: 403, Title: "You do not have enough credit."}))
	e.GET("/problem/undocumented", fail(&problem.Problem{Status: 418, Title: "I'm a teapot"}))
	e.GET("/problem/wrapped", fail(fmt.Errorf("update: %w", problem.New(status.Gone).WithCause(errors.New("row 7 deleted")))))
	e.GET("/problem/in-httperror", fail(echo.NewHTTPError(500).WithInternal(problem.New(status.PreconditionFailed))))
	// Row 2: validation.
	e.POST("/patients", func(c echo.Context) error {
		var p newPatient
		if err := c.Bind(&p); err != nil {
			return err
		}
		if err := c.Validate(&p); err != nil {
			return err
		}
		return fmt.Errorf("insert: %w", errDuplicateEmail)
	})
	e.GET("/validation/invalid", func(c echo.Context) error { return c.Validate(nil) })
	// Row 3: rules.
	e.GET("/rule/sentinel", fail(fmt.Errorf("select patient p-9: %w", errPatientNotFound)))
	e.GET("/rule/type", fail(fmt.Errorf("update: %w", &lockedError{record: "p-1"})))
	e.GET("/rule/order", fail(errors.Join(errDuplicateEmail, errPatientNotFound)))
	// Row 4: StatusCode() int.
	e.GET("/coder", fail(v5Error{409}))
	e.GET("/coder/undocumented", fail(v5Error{599}))
	// Row 5: Echo's errors.
	e.GET("/echo/wrapped-not-found", fail(fmt.Errorf("lookup: %w", echo.ErrNotFound)))
	e.GET("/echo/message", fail(echo.NewHTTPError(http.StatusBadRequest, "The cursor has expired.")))
	e.GET("/echo/reason", fail(echo.NewHTTPError(http.StatusForbidden)))
	e.GET("/echo/5xx", fail(echo.NewHTTPError(http.StatusBadGateway, "remote http://10.0.0.7:8080 unreachable")))
	e.GET("/echo/inner", fail(echo.NewHTTPError(http.StatusInternalServerError).WithInternal(echo.NewHTTPError(http.StatusTooManyRequests, "slow down"))))
	e.GET("/echo/redirect", fail(echo.NewHTTPError(http.StatusFound)))
	e.GET("/echo/binding", func(c echo.Context) error {
		var limit int
		return echo.QueryParamsBinder(c).Int("limit", &limit).BindError()
	})
	e.GET("/echo/unauthorized", fail(echo.ErrUnauthorized))
	e.GET("/echo/basic", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `basic realm="Restricted"`)
		return echo.ErrUnauthorized
	})
	e.GET("/echo/too-many", fail(echo.ErrTooManyRequests))
	// Row 6: the standard library.
	e.GET("/std/deadline", fail(fmt.Errorf("report: %w", context.DeadlineExceeded)))
	e.GET("/std/overloaded", fail(fmt.Errorf("enqueue: %w", errors.Join(overloaded{}, echo.ErrServiceUnavailable))))
	e.GET("/std/maxbytes", fail(&http.MaxBytesError{Limit: 10}))
	e.GET("/std/syntax", func(c echo.Context) error {
		var v any
		return json.Unmarshal([]byte(`{"a":}`), &v)
	})
	e.GET("/std/canceled-internally", fail(fmt.Errorf("job: %w", context.Canceled)))
	e.GET("/std/client-gone", func(c echo.Context) error {
		<-c.Request().Context().Done()
		return c.Request().Context().Err()
	})
	// Row 7: anything else, and panics.
	e.GET("/other", fail(errors.New("pq: connection refused to 10.0.0.3:5432")))
	e.GET("/panic", func(echo.Context) error { panic("nil map write in repository.go:42") })
	// Protocol details.
	e.GET("/committed", func(c echo.Context) error {
		_ = c.String(http.StatusOK, "partial")
		return errors.New("late failure")
	})
	e.GET("/stale-headers", func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Type", "image/png")
		h.Set("Content-Length", "12345")
		h.Set("ETag", `"v1"`)
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Location", "/exports/secret.png")
		h.Set("Access-Control-Allow-Origin", "*")
		return errPatientNotFound
	})

	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return srv, logs
}

type e2eResult struct {
	resp *http.Response
	body []byte
	p    *problem.Problem
}

// e2eDo sends a request and checks what every problem response must hold.
func e2eDo(t *testing.T, r *http.Request) e2eResult {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	res := e2eResult{resp: resp, body: body}
	if resp.StatusCode < 400 {
		return res
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if vary := strings.Join(resp.Header.Values("Vary"), ", "); !strings.Contains(vary, "Accept") || !strings.Contains(vary, "Accept-Language") {
		t.Errorf("Vary = %q", vary)
	}
	if r.Method == http.MethodHead {
		return res
	}
	if resp.Header.Get("Content-Type") == problem.MediaType {
		if err := problemtest.ValidateSchema(body); err != nil {
			t.Errorf("Appendix A schema rejects %s: %v", body, err)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	p, err := problem.Parse(resp)
	if err != nil {
		t.Fatalf("not a problem: %v: %s", err, body)
	}
	if p.Status != resp.StatusCode {
		t.Errorf("body status %d, HTTP status %d", p.Status, resp.StatusCode)
	}
	res.p = p
	return res
}

func TestMappingTable(t *testing.T) {
	srv, _ := e2eServer(t)
	desc := func(c status.Code) string { return c.Description() }
	tests := []struct {
		name, method, path, body string
		status                   int
		typ, title, detail       string
		ext                      map[string]any
	}{
		// 1. A *problem.Problem: its own members.
		{"problem", "GET", "/problem", "", 409, typeBase + "conflict", "Conflict", "Patient p-1 was changed meanwhile.", map[string]any{"patient_id": "p-1"}},
		{"problem with its own type and instance", "GET", "/problem/custom", "", 403, "https://example.com/probs/out-of-credit", "Forbidden", "Your current balance is 30, but that costs 50.", nil},
		{"problem with its own title", "GET", "/problem/custom-title", "", 403, typeBase + "forbidden", "You do not have enough credit.", desc(status.Forbidden), nil},
		{"problem with an undocumented status", "GET", "/problem/undocumented", "", 400, typeBase + "bad-request", "Bad Request", desc(status.BadRequest), nil},
		{"wrapped problem", "GET", "/problem/wrapped", "", 410, typeBase + "gone", "Gone", desc(status.Gone), nil},
		{"problem inside an HTTPError", "GET", "/problem/in-httperror", "", 412, typeBase + "precondition-failed", "Precondition Failed", desc(status.PreconditionFailed), nil},
		// 2. Validation.
		{"validation", "POST", "/patients", `{"name":"","email":"nope","contacts":[{"phone":"12"}]}`, 422, typeBase + "unprocessable-entity", "Unprocessable Entity", desc(status.UnprocessableEntity), nil},
		{"invalid validation is a programming error", "GET", "/validation/invalid", "", 500, typeBase + "internal-server-error", "Internal Server Error", desc(status.InternalServerError), nil},
		// 3. Rules.
		{"sentinel rule", "GET", "/rule/sentinel", "", 404, typeBase + "not-found", "Not Found", desc(status.NotFound), nil},
		{"sentinel rule with detail", "POST", "/patients", `{"name":"Ada","email":"ada@example.com"}`, 409, typeBase + "conflict", "Conflict", "A patient with this email already exists.", nil},
		{"type rule", "GET", "/rule/type", "", 423, typeBase + "locked", "Locked", desc(status.Locked), nil},
		{"the first rule in Config order wins", "GET", "/rule/order", "", 404, typeBase + "not-found", "Not Found", desc(status.NotFound), nil},
		// 4. StatusCode() int.
		{"status coder", "GET", "/coder", "", 409, typeBase + "conflict", "Conflict", desc(status.Conflict), nil},
		{"status coder, undocumented 5xx", "GET", "/coder/undocumented", "", 500, typeBase + "internal-server-error", "Internal Server Error", desc(status.InternalServerError), nil},
		// 5. Echo's errors.
		{"router 404", "GET", "/nowhere", "", 404, typeBase + "not-found", "Not Found", desc(status.NotFound), nil},
		{"wrapped echo.ErrNotFound", "GET", "/echo/wrapped-not-found", "", 404, typeBase + "not-found", "Not Found", desc(status.NotFound), nil},
		{"4xx message is public", "GET", "/echo/message", "", 400, typeBase + "bad-request", "Bad Request", "The cursor has expired.", nil},
		{"reason phrase gives way to the description", "GET", "/echo/reason", "", 403, typeBase + "forbidden", "Forbidden", desc(status.Forbidden), nil},
		{"5xx message is never shown", "GET", "/echo/5xx", "", 502, typeBase + "bad-gateway", "Bad Gateway", desc(status.BadGateway), nil},
		{"Internal HTTPError wins, as in Echo", "GET", "/echo/inner", "", 429, typeBase + "too-many-requests", "Too Many Requests", "slow down", nil},
		{"redirect code is no error code", "GET", "/echo/redirect", "", 500, typeBase + "internal-server-error", "Internal Server Error", desc(status.InternalServerError), nil},
		{"binding error names the parameter", "GET", "/echo/binding?limit=ten", "", 400, typeBase + "bad-request", "Bad Request", `Parameter "limit" has an invalid value.`, nil},
		{"bind syntax error", "POST", "/patients", `{"name":}`, 400, typeBase + "bad-request", "Bad Request", "The request body is not valid JSON: syntax error at byte 9.", nil},
		{"bind type error", "POST", "/patients", `{"name":42}`, 400, typeBase + "bad-request", "Bad Request", `The field "name" must be a string.`, nil},
		{"bind truncated", "POST", "/patients", `{"name":"A`, 400, typeBase + "bad-request", "Bad Request", "The request body ended before the document was complete.", nil},
		// 6. The standard library.
		{"deadline", "GET", "/std/deadline", "", 503, typeBase + "service-unavailable", "Service Unavailable", desc(status.ServiceUnavailable), nil},
		{"max bytes", "GET", "/std/maxbytes", "", 413, typeBase + "request-entity-too-large", "Request Entity Too Large", desc(status.RequestEntityTooLarge), nil},
		{"JSON syntax", "GET", "/std/syntax", "", 400, typeBase + "bad-request", "Bad Request", "The request body is not valid JSON: syntax error at byte 6.", nil},
		{"canceled while the client waits", "GET", "/std/canceled-internally", "", 500, typeBase + "internal-server-error", "Internal Server Error", desc(status.InternalServerError), nil},
		// 7. Anything else, and panics.
		{"other error", "GET", "/other", "", 500, typeBase + "internal-server-error", "Internal Server Error", desc(status.InternalServerError), nil},
		{"panic", "GET", "/panic", "", 500, typeBase + "internal-server-error", "Internal Server Error", desc(status.InternalServerError), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			res := e2eDo(t, r)
			p := res.p
			if res.resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", res.resp.StatusCode, tt.status, res.body)
			}
			if p.Type != tt.typ || p.Title != tt.title || p.Detail != tt.detail {
				t.Errorf("got type %q title %q detail %q\nwant type %q title %q detail %q", p.Type, p.Title, p.Detail, tt.typ, tt.title, tt.detail)
			}
			for k, v := range tt.ext {
				if p.Extensions[k] != v {
					t.Errorf("extension %s = %v, want %v", k, p.Extensions[k], v)
				}
			}
			wantInstance := strings.SplitN(tt.path, "?", 2)[0]
			if tt.name == "problem with its own type and instance" {
				wantInstance = "/account/12345/msgs/abc"
			}
			if p.Instance != wantInstance {
				t.Errorf("instance = %q, want %q", p.Instance, wantInstance)
			}
			if id, _ := p.Extensions["request_id"].(string); id == "" || id != res.resp.Header.Get("X-Request-Id") {
				t.Errorf("request_id = %q, header %q", id, res.resp.Header.Get("X-Request-Id"))
			}
		})
	}
}

func TestValidationProblem(t *testing.T) {
	srv, _ := e2eServer(t)
	r, _ := http.NewRequest("POST", srv.URL+"/patients", strings.NewReader(`{"name":"","email":"nope-SECRET","contacts":[{"phone":"12-SECRET"}]}`))
	r.Header.Set("Content-Type", "application/json")
	res := e2eDo(t, r)
	want := []problem.FieldError{
		{Detail: "name is a required field", Pointer: "#/name", Rule: "required"},
		{Detail: "email must be a valid email address", Pointer: "#/email", Rule: "email"},
		{Detail: "phone must be a valid E.164 formatted phone number", Pointer: "#/contacts/0/phone", Rule: "e164"},
	}
	got := res.p.Errors()
	if len(got) != len(want) {
		t.Fatalf("errors = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if bytes.Contains(res.body, []byte("SECRET")) {
		t.Errorf("rejected values echoed: %s", res.body)
	}
	// The binding error row carries its parameter too.
	bind := e2eDo(t, mustRequest("GET", srv.URL+"/echo/binding?limit=ten-SECRET"))
	if errs := bind.p.Errors(); len(errs) != 1 || errs[0].Parameter != "limit" || bytes.Contains(bind.body, []byte("SECRET")) {
		t.Errorf("binding problem = %s", bind.body)
	}
}

func mustRequest(method, url string) *http.Request {
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		panic(err)
	}
	return r
}

func TestProtocolHeaders(t *testing.T) {
	srv, _ := e2eServer(t)

	t.Run("401 carries the default challenge", func(t *testing.T) {
		res := e2eDo(t, mustRequest("GET", srv.URL+"/echo/unauthorized"))
		if got := res.resp.Header.Get("WWW-Authenticate"); got != "Bearer" {
			t.Errorf("WWW-Authenticate = %q", got)
		}
	})
	t.Run("401 keeps a challenge already set", func(t *testing.T) {
		res := e2eDo(t, mustRequest("GET", srv.URL+"/echo/basic"))
		if got := res.resp.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != `basic realm="Restricted"` {
			t.Errorf("WWW-Authenticate = %q", got)
		}
	})
	t.Run("405 keeps Allow", func(t *testing.T) {
		res := e2eDo(t, mustRequest("DELETE", srv.URL+"/problem"))
		if res.resp.StatusCode != 405 || !strings.Contains(res.resp.Header.Get("Allow"), "GET") {
			t.Errorf("status %d, Allow %q", res.resp.StatusCode, res.resp.Header.Get("Allow"))
		}
	})
	t.Run("429 and 503 carry Retry-After", func(t *testing.T) {
		for path, want := range map[string]string{"/echo/too-many": "1", "/std/deadline": "1", "/std/overloaded": "90"} {
			res := e2eDo(t, mustRequest("GET", srv.URL+path))
			if got := res.resp.Header.Get("Retry-After"); got != want {
				t.Errorf("%s: Retry-After = %q, want %q", path, got, want)
			}
		}
	})
	t.Run("HEAD gets headers and no body", func(t *testing.T) {
		res := e2eDo(t, mustRequest("HEAD", srv.URL+"/nowhere"))
		if res.resp.StatusCode != 404 || len(res.body) != 0 || res.resp.Header.Get("Content-Type") != problem.MediaType {
			t.Errorf("status %d, %d body bytes, Content-Type %q", res.resp.StatusCode, len(res.body), res.resp.Header.Get("Content-Type"))
		}
	})
	t.Run("XML when preferred", func(t *testing.T) {
		r := mustRequest("GET", srv.URL+"/rule/type")
		r.Header.Set("Accept", "application/problem+xml")
		res := e2eDo(t, r)
		if ct := res.resp.Header.Get("Content-Type"); ct != problem.MediaTypeXML || !bytes.Contains(res.body, []byte(`<problem xmlns="urn:ietf:rfc:7807">`)) {
			t.Errorf("Content-Type %q, body %s", ct, res.body)
		}
		if res.p.Status != 423 || res.p.Title != "Locked" {
			t.Errorf("parsed %+v", res.p)
		}
	})
	t.Run("localised title and Content-Language", func(t *testing.T) {
		r := mustRequest("GET", srv.URL+"/rule/sentinel")
		r.Header.Set("Accept-Language", "de-CH, fr;q=0.5")
		res := e2eDo(t, r)
		if res.p.Title != "Nicht gefunden" || res.resp.Header.Get("Content-Language") != "de" {
			t.Errorf("title %q, Content-Language %q", res.p.Title, res.resp.Header.Get("Content-Language"))
		}
		if res.p.Detail != status.NotFound.Description() {
			t.Errorf("detail = %q; the documented description is the contract", res.p.Detail)
		}
	})
	t.Run("trace id from traceparent", func(t *testing.T) {
		r := mustRequest("GET", srv.URL+"/other")
		r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		if got := e2eDo(t, r).p.Extensions["trace_id"]; got != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("trace_id = %v", got)
		}
	})
	t.Run("instance is escaped and has no query", func(t *testing.T) {
		res := e2eDo(t, mustRequest("GET", srv.URL+"/no%20where/%3Cb%3E?secret=1"))
		if res.p.Instance != "/no%20where/%3Cb%3E" {
			t.Errorf("instance = %q", res.p.Instance)
		}
	})
	t.Run("a committed response is left alone", func(t *testing.T) {
		res := e2eDo(t, mustRequest("GET", srv.URL+"/committed"))
		if res.resp.StatusCode != 200 || string(res.body) != "partial" {
			t.Errorf("status %d body %q", res.resp.StatusCode, res.body)
		}
	})
	t.Run("stale representation headers are dropped, others kept", func(t *testing.T) {
		res := e2eDo(t, mustRequest("GET", srv.URL+"/stale-headers"))
		h := res.resp.Header
		if h.Get("Content-Type") != problem.MediaType || h.Get("ETag") != "" || h.Get("Content-Encoding") != "" ||
			h.Get("Content-Location") != "" || h.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("headers = %v", h)
		}
		if res.resp.ContentLength != int64(len(res.body)) {
			t.Errorf("Content-Length %d for %d bytes", res.resp.ContentLength, len(res.body))
		}
	})
}

// TestClientAbort cancels a request mid-flight: nothing is written, and
// the record is a client abort, not a 500.
func TestClientAbort(t *testing.T) {
	srv, logs := e2eServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	r, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/std/client-gone", nil)
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	if _, err := http.DefaultClient.Do(r); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	// The handler returns after the client left; wait for its record.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		recs, _ := logs.Records()
		for _, rec := range recs {
			if rec["path"] == "/std/client-gone" {
				if rec["msg"] != "client closed the request" || rec["level"] != "INFO" || rec["status"] != nil {
					t.Errorf("record = %v", rec)
				}
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no record of the client abort")
}

// TestOneRecordPerError checks the log: one record per error response,
// 5xx at ERROR with the cause, 4xx at INFO, panics with their stack.
func TestOneRecordPerError(t *testing.T) {
	srv, logs := e2eServer(t)
	for _, path := range []string{"/rule/sentinel", "/other", "/panic"} {
		e2eDo(t, mustRequest("GET", srv.URL+path))
	}
	recs, err := logs.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records: %v", len(recs), recs)
	}
	check := func(rec map[string]any, level, msg string, code float64, errText string) {
		t.Helper()
		if rec["level"] != level || rec["msg"] != msg || rec["status"] != code || !strings.Contains(fmt.Sprint(rec["error"]), errText) {
			t.Errorf("record = %v", rec)
		}
		if rec["method"] != "GET" || rec["request_id"] == nil || rec["path"] == nil {
			t.Errorf("record lacks request fields: %v", rec)
		}
	}
	check(recs[0], "INFO", "client error", 404, "patient not found")
	check(recs[1], "ERROR", "server error", 500, "10.0.0.3:5432")
	check(recs[2], "ERROR", "panic recovered", 500, "nil map write")
	if !strings.Contains(fmt.Sprint(recs[2]["stack"]), "e2eServer") {
		t.Errorf("panic record's stack does not reach the panicking handler: %v", recs[2])
	}
	if recs[0]["rule"] != "Is(patient not found)" {
		t.Errorf("the matching rule is not named: %v", recs[0])
	}
}

// TestConcurrentErrors drives every row at once under the race detector.
func TestConcurrentErrors(t *testing.T) {
	srv, _ := e2eServer(t)
	paths := []string{"/problem", "/rule/sentinel", "/rule/type", "/coder", "/echo/binding?limit=x", "/std/deadline", "/other", "/panic", "/nowhere"}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + paths[i%len(paths)])
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			p, err := problem.Parse(resp)
			if err != nil || p.Status != resp.StatusCode {
				t.Errorf("%s: %v %+v", paths[i%len(paths)], err, p)
			}
		}()
	}
	wg.Wait()
}
