// Package bench compares the cost of apierrors' middleware with Echo's
// default error handling, a hand-written 422, Huma, and the physical floor
// of an error response.
//
// Every benchmark drives a real *echo.Echo through e.ServeHTTP and reuses
// one request and one small resettable ResponseWriter: a fresh
// httptest.ResponseRecorder per iteration would add allocations that hide
// the real cost. Each scenario's response is checked before timing (and
// again after), so no benchmark measures a broken path.
//
// The Library rows run with the library's records discarded (slog's
// default logger set to slog.DiscardHandler), as Echo's default handler
// logs nothing; the LibraryJSONLog rows log each record with a real
// slog.JSONHandler writing to io.Discard, so the cost of the record shows
// on its own.
//
// run.sh runs the scenarios interleaved and prints benchstat's table and
// the ratios of cmd/ratios; CI runs each once with -benchtime=1x.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humaecho"
	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// The requests of the scenarios.
const (
	successPath    = "/health"
	unknownPath    = "/v2/patients/p-42" // matches no route: 404
	patientsPath   = "/patients"         // POST: conflict or validation
	panicPath      = "/debug/panic"
	typeBase       = "/problems/"
	conflictDetail = "A patient with this email already exists."
	requestID      = "7f3c9a1e-2b4d-4c8e-9f10-a1b2c3d4e5f6"
)

// invalidPatient fails three fields: name (required / minLength),
// email (email / format) and age (min / minimum).
var invalidPatient = []byte(`{"name":"","email":"not-an-email","age":-1}`)

// Domain errors, as a service declares them. The errors the handlers
// return are built once, here, for every contender alike, so that the
// benchmarks measure the error layer and not the handler's construction
// of its error.
var (
	errPatientNotFound = errors.New("patient not found")
	errDuplicateEmail  = errors.New("duplicate email")

	// A sentinel wrapped by the store, as handlers usually return it.
	errConflictSentinel = fmt.Errorf("create patient: %w", errDuplicateEmail)
	// Echo's way: an HTTPError.
	errConflictEcho = echo.NewHTTPError(http.StatusConflict)
	// The library's other way: a *problem.Problem declared once.
	errConflictProblem = problem.New(status.Conflict).WithDetail(conflictDetail)
)

// ---------------------------------------------------------------------
// The resettable ResponseWriter and the reusable request.

// recorder is a minimal http.ResponseWriter that is reset, not replaced,
// between iterations: its header map is cleared (keeping its buckets) and
// its body buffer truncated, so steady state allocates nothing.
type recorder struct {
	header http.Header
	status int
	n      int
	body   []byte
}

func newRecorder() *recorder {
	return &recorder{header: make(http.Header, 8), body: make([]byte, 0, 4096)}
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.n += len(p)
	r.body = append(r.body, p...)
	return len(p), nil
}

func (r *recorder) reset() {
	clear(r.header)
	r.status = 0
	r.n = 0
	r.body = r.body[:0]
}

// body is a request body that is rewound without allocating.
type body struct{ bytes.Reader }

func (*body) Close() error { return nil }

// request is one *http.Request reused by every iteration; a request with
// a payload gets its body rewound before each.
type request struct {
	req     *http.Request
	body    *body
	payload []byte
}

func newRequest(method, target string, payload []byte) *request {
	r := &request{payload: payload}
	var rd io.Reader
	if payload != nil {
		r.body = &body{}
		rd = r.body
	}
	req, err := http.NewRequestWithContext(context.Background(), method, target, rd)
	if err != nil {
		panic(err)
	}
	req.RemoteAddr = "192.0.2.1:1234"
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	r.req = req
	r.reset()
	return r
}

func (r *request) reset() {
	if r.body == nil {
		return
	}
	r.body.Reset(r.payload)
	r.req.Body = r.body
	r.req.ContentLength = int64(len(r.payload))
}

// ---------------------------------------------------------------------
// Scenarios.

// A scenario builds its server and request and says what the response
// must be.
type scenario struct {
	name  string // "Group/Name", or "Name" for a group of one
	build func(tb testing.TB) (http.Handler, *request, func(*recorder) error)
}

var scenarios = []scenario{
	{"Success/Bare", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		e := newEcho(nil)
		e.GET(successPath, noContent)
		return e, newRequest(http.MethodGet, successPath, nil), wantNoContent
	}},
	{"Success/Passthrough", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		e := newEcho(func(e *echo.Echo) { e.Use(passthrough) })
		e.GET(successPath, noContent)
		return e, newRequest(http.MethodGet, successPath, nil), wantNoContent
	}},
	{"Success/Library", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		discardLogs(tb)
		e := newEcho(mountLibrary(libraryConfig()))
		e.GET(successPath, noContent)
		return e, newRequest(http.MethodGet, successPath, nil), wantNoContent
	}},

	{"Floor", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		// The same bytes the library writes for the unknown route, sent by
		// a handler on that very path: the floor of an error response.
		floor := libraryNotFoundBody(tb)
		e := newEcho(nil)
		e.GET(unknownPath, func(c echo.Context) error {
			return c.Blob(http.StatusNotFound, problem.MediaType, floor)
		})
		return e, newRequest(http.MethodGet, unknownPath, nil), func(w *recorder) error {
			if err := wantStatusType(w, http.StatusNotFound, problem.MediaType); err != nil {
				return err
			}
			return wantBody(w, string(floor))
		}
	}},

	{"NotFound/EchoDefault", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		e := newEcho(nil)
		return e, newRequest(http.MethodGet, unknownPath, nil), wantEcho(http.StatusNotFound, `{"message":"Not Found"}`+"\n")
	}},
	{"NotFound/Library", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		discardLogs(tb)
		e := newEcho(mountLibrary(libraryConfig()))
		return e, newRequest(http.MethodGet, unknownPath, nil), wantProblem(status.NotFound, "", unknownPath, nil)
	}},
	{"NotFound/LibraryRequestID", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		// As behind a proxy or Echo's RequestID middleware: every error
		// response of such a service carries a request_id member.
		discardLogs(tb)
		e := newEcho(mountLibrary(libraryConfig()))
		r := newRequest(http.MethodGet, unknownPath, nil)
		r.req.Header.Set(echo.HeaderXRequestID, requestID)
		return e, r, wantRequestID(wantProblem(status.NotFound, "", unknownPath, nil))
	}},
	{"NotFound/LibraryJSONLog", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		cfg := libraryConfig()
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
		e := newEcho(mountLibrary(cfg))
		return e, newRequest(http.MethodGet, unknownPath, nil), wantProblem(status.NotFound, "", unknownPath, nil)
	}},

	{"Conflict/EchoDefault", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		e := newEcho(nil)
		e.POST(patientsPath, func(echo.Context) error { return errConflictEcho })
		return e, newRequest(http.MethodPost, patientsPath, nil), wantEcho(http.StatusConflict, `{"message":"Conflict"}`+"\n")
	}},
	{"Conflict/LibrarySentinel", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		discardLogs(tb)
		e := newEcho(mountLibrary(libraryConfig()))
		e.POST(patientsPath, func(echo.Context) error { return errConflictSentinel })
		return e, newRequest(http.MethodPost, patientsPath, nil), wantProblem(status.Conflict, conflictDetail, patientsPath, nil)
	}},
	{"Conflict/LibraryProblem", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		discardLogs(tb)
		e := newEcho(mountLibrary(libraryConfig()))
		e.POST(patientsPath, func(echo.Context) error { return errConflictProblem })
		return e, newRequest(http.MethodPost, patientsPath, nil), wantProblem(status.Conflict, conflictDetail, patientsPath, nil)
	}},

	{"Validation/EchoDefault", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		e := newEcho(func(e *echo.Echo) { e.Validator = newPlainValidator() })
		e.POST(patientsPath, bindValidate)
		return e, newRequest(http.MethodPost, patientsPath, invalidPatient),
			wantEcho(http.StatusInternalServerError, `{"message":"Internal Server Error"}`+"\n")
	}},
	{"Validation/HandWritten", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		e := newEcho(func(e *echo.Echo) { e.Validator = newPlainValidator() })
		e.POST(patientsPath, handWritten)
		return e, newRequest(http.MethodPost, patientsPath, invalidPatient), wantEcho(http.StatusUnprocessableEntity,
			`{"errors":[{"field":"name","rule":"required"},{"field":"email","rule":"email"},{"field":"age","rule":"min","param":"0"}],"message":"validation failed"}`+"\n")
	}},
	{"Validation/Huma", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		e := newEcho(nil)
		api := humaecho.New(e, huma.DefaultConfig("bench", "1.0.0"))
		huma.Register(api, huma.Operation{
			OperationID:   "create-patient",
			Method:        http.MethodPost,
			Path:          patientsPath,
			DefaultStatus: http.StatusCreated,
		}, func(ctx context.Context, in *humaCreatePatient) (*struct{}, error) {
			return nil, nil
		})
		return e, newRequest(http.MethodPost, patientsPath, invalidPatient), wantHuma
	}},
	{"Validation/Library", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		discardLogs(tb)
		e := newEcho(mountLibrary(libraryConfig()))
		e.POST(patientsPath, bindValidate)
		return e, newRequest(http.MethodPost, patientsPath, invalidPatient),
			wantProblem(status.UnprocessableEntity, "", patientsPath, []string{"#/name", "#/email", "#/age"})
	}},

	{"Panic/EchoRecover", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		// Echo's Recover as it comes: it captures the stack and prints it
		// to Echo's logger, which newEcho points at io.Discard.
		e := newEcho(func(e *echo.Echo) { e.Use(echomw.Recover()) })
		e.GET(panicPath, panics)
		return e, newRequest(http.MethodGet, panicPath, nil),
			wantEcho(http.StatusInternalServerError, `{"message":"Internal Server Error"}`+"\n")
	}},
	{"Panic/Library", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		discardLogs(tb)
		e := newEcho(mountLibrary(libraryConfig()))
		e.GET(panicPath, panics)
		return e, newRequest(http.MethodGet, panicPath, nil), wantProblem(status.InternalServerError, "", panicPath, nil)
	}},
	{"Panic/LibraryJSONLog", func(tb testing.TB) (http.Handler, *request, func(*recorder) error) {
		// With a logger that wants Error records the library captures the
		// panic's stack and logs it, as Echo's Recover does.
		cfg := libraryConfig()
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
		e := newEcho(mountLibrary(cfg))
		e.GET(panicPath, panics)
		return e, newRequest(http.MethodGet, panicPath, nil), wantProblem(status.InternalServerError, "", panicPath, nil)
	}},
}

// ---------------------------------------------------------------------
// Servers.

// newEcho returns an Echo with a handful of routes, so that the router
// does real work, after mount has set it up.
func newEcho(mount func(*echo.Echo)) *echo.Echo {
	e := echo.New()
	e.Logger.SetOutput(io.Discard) // Echo's Recover prints here
	if mount != nil {
		mount(e)
	}
	e.GET(patientsPath, noContent)
	e.GET("/patients/:id", noContent)
	e.PUT("/patients/:id", noContent)
	e.DELETE("/patients/:id", noContent)
	e.GET("/reports/:year/:month", noContent)
	return e
}

// libraryConfig is the configuration of the README: a type base and a
// service's sentinel rules.
func libraryConfig() middleware.Config {
	return middleware.Config{
		TypeBase: typeBase,
		Rules: []middleware.Rule{
			middleware.Is(errPatientNotFound, status.NotFound),
			middleware.Is(errDuplicateEmail, status.Conflict).WithDetail(conflictDetail),
		},
	}
}

// mountLibrary mounts the library as the README says.
func mountLibrary(cfg middleware.Config) func(*echo.Echo) {
	return func(e *echo.Echo) {
		middleware.Mount(e, cfg)
		e.Validator = middleware.NewValidator()
		e.GET(typeBase+"*", middleware.ProblemTypesHandler(cfg))
	}
}

// discardLogs points slog's default logger at slog.DiscardHandler for
// the rest of the test or benchmark: how a service that logs elsewhere
// runs the library.
func discardLogs(tb testing.TB) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	tb.Cleanup(func() { slog.SetDefault(prev) })
}

// libraryNotFoundBody is the body the library sends for the unknown
// route, checked.
func libraryNotFoundBody(tb testing.TB) []byte {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	defer slog.SetDefault(prev)
	e := newEcho(mountLibrary(libraryConfig()))
	w := newRecorder()
	e.ServeHTTP(w, newRequest(http.MethodGet, unknownPath, nil).req)
	if err := wantProblem(status.NotFound, "", unknownPath, nil)(w); err != nil {
		tb.Fatalf("library 404 for the floor: %v", err)
	}
	return bytes.Clone(w.body)
}

func noContent(c echo.Context) error { return c.NoContent(http.StatusNoContent) }

func passthrough(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error { return next(c) }
}

func panics(echo.Context) error { panic("boom") }

// createPatient is the body that the Echo handlers bind and validate.
type createPatient struct {
	Name  string `json:"name" validate:"required"`
	Email string `json:"email" validate:"required,email"`
	Age   int    `json:"age" validate:"min=0"`
}

// humaCreatePatient is the same body for Huma, with its validation tags.
type humaCreatePatient struct {
	Body struct {
		Name  string `json:"name" minLength:"1"`
		Email string `json:"email" format:"email"`
		Age   int    `json:"age" minimum:"0"`
	}
}

// bindValidate binds and validates, and returns any error: what Echo's
// default handler and the library then render.
func bindValidate(c echo.Context) error {
	var in createPatient
	if err := c.Bind(&in); err != nil {
		return err
	}
	if err := c.Validate(&in); err != nil {
		return err
	}
	return c.NoContent(http.StatusCreated)
}

// fieldError is a typical team's entry of a hand-written 422.
type fieldError struct {
	Field string `json:"field"`
	Rule  string `json:"rule"`
	Param string `json:"param,omitempty"`
}

// handWritten is a typical team's 422: bind, validate, and c.JSON the
// failed fields.
func handWritten(c echo.Context) error {
	var in createPatient
	if err := c.Bind(&in); err != nil {
		return err
	}
	if err := c.Validate(&in); err != nil {
		var ve validator.ValidationErrors
		if !errors.As(err, &ve) {
			return err
		}
		out := make([]fieldError, 0, len(ve))
		for _, fe := range ve {
			out = append(out, fieldError{Field: fe.Field(), Rule: fe.Tag(), Param: fe.Param()})
		}
		return c.JSON(http.StatusUnprocessableEntity, echo.Map{"message": "validation failed", "errors": out})
	}
	return c.NoContent(http.StatusCreated)
}

// plainValidator is the echo.Validator most services write around
// validator/v10: it returns validator's errors as they are.
type plainValidator struct{ v *validator.Validate }

func newPlainValidator() *plainValidator {
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		return name
	})
	return &plainValidator{v: v}
}

func (p *plainValidator) Validate(i any) error { return p.v.Struct(i) }

// ---------------------------------------------------------------------
// Checks.

func wantStatusType(w *recorder, code int, contentType string) error {
	if w.status != code {
		return fmt.Errorf("status %d, want %d (body %q)", w.status, code, w.body)
	}
	if got := w.header.Get("Content-Type"); got != contentType {
		return fmt.Errorf("Content-Type %q, want %q", got, contentType)
	}
	if w.n != len(w.body) {
		return fmt.Errorf("wrote %d bytes, recorded %d", w.n, len(w.body))
	}
	return nil
}

func wantBody(w *recorder, body string) error {
	if string(w.body) != body {
		return fmt.Errorf("body %q, want %q", w.body, body)
	}
	return nil
}

func wantNoContent(w *recorder) error {
	if w.status != http.StatusNoContent || len(w.body) != 0 {
		return fmt.Errorf("status %d with %d body bytes, want 204 and none", w.status, len(w.body))
	}
	return nil
}

// wantEcho checks a response of Echo's c.JSON: its status, type and body.
func wantEcho(code int, body string) func(*recorder) error {
	return func(w *recorder) error {
		if err := wantStatusType(w, code, echo.MIMEApplicationJSON); err != nil {
			return err
		}
		return wantBody(w, body)
	}
}

// wantProblem checks a problem of the library: type, title, status,
// detail (the documented description when detail is ""), instance and,
// for a 422, one errors entry per pointer, in order.
func wantProblem(code status.Code, detail, instance string, pointers []string) func(*recorder) error {
	if detail == "" {
		detail = code.Description()
	}
	return func(w *recorder) error {
		if err := wantStatusType(w, int(code), problem.MediaType); err != nil {
			return err
		}
		var got struct {
			Type     *string `json:"type"`
			Title    *string `json:"title"`
			Status   *int    `json:"status"`
			Detail   *string `json:"detail"`
			Instance *string `json:"instance"`
			Errors   []struct {
				Pointer string `json:"pointer"`
				Detail  string `json:"detail"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(w.body, &got); err != nil {
			return fmt.Errorf("body %q: %v", w.body, err)
		}
		for _, m := range []struct {
			name      string
			got       *string
			want      string
			isPresent bool
		}{
			{"type", got.Type, typeBase + code.Slug(), got.Type != nil},
			{"title", got.Title, code.Title(), got.Title != nil},
			{"detail", got.Detail, detail, got.Detail != nil},
			{"instance", got.Instance, instance, got.Instance != nil},
		} {
			if !m.isPresent || *m.got != m.want {
				return fmt.Errorf("member %s of %s: want %q", m.name, w.body, m.want)
			}
		}
		if got.Status == nil || *got.Status != int(code) {
			return fmt.Errorf("member status of %s: want %d", w.body, code)
		}
		if len(got.Errors) != len(pointers) {
			return fmt.Errorf("%d errors entries in %s, want %d", len(got.Errors), w.body, len(pointers))
		}
		for i, p := range pointers {
			if got.Errors[i].Pointer != p || got.Errors[i].Detail == "" {
				return fmt.Errorf("errors[%d] of %s: want pointer %q and a detail", i, w.body, p)
			}
		}
		return nil
	}
}

// wantRequestID checks a problem that must also carry the request's id.
func wantRequestID(check func(*recorder) error) func(*recorder) error {
	return func(w *recorder) error {
		if err := check(w); err != nil {
			return err
		}
		var got struct {
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal(w.body, &got); err != nil || got.RequestID != requestID {
			return fmt.Errorf("body %s: want request_id %q", w.body, requestID)
		}
		return nil
	}
}

// wantHuma checks Huma's 422: a problem with one error per failed field.
func wantHuma(w *recorder) error {
	if err := wantStatusType(w, http.StatusUnprocessableEntity, problem.MediaType); err != nil {
		return err
	}
	var got struct {
		Status int `json:"status"`
		Errors []struct {
			Location string `json:"location"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(w.body, &got); err != nil {
		return fmt.Errorf("body %q: %v", w.body, err)
	}
	want := []string{"body.name", "body.email", "body.age"}
	var locs []string
	for _, e := range got.Errors {
		locs = append(locs, e.Location)
	}
	if got.Status != http.StatusUnprocessableEntity || len(locs) != len(want) {
		return fmt.Errorf("body %s: want status 422 and errors at %v", w.body, want)
	}
	for _, l := range want {
		found := false
		for _, g := range locs {
			found = found || g == l
		}
		if !found {
			return fmt.Errorf("body %s: no error at %s", w.body, l)
		}
	}
	return nil
}

// ---------------------------------------------------------------------
// Running.

// serve sends the request once into a reset recorder.
func serve(h http.Handler, w *recorder, r *request) {
	w.reset()
	r.reset()
	h.ServeHTTP(w, r.req)
}

func find(name string) scenario {
	for _, s := range scenarios {
		if s.name == name {
			return s
		}
	}
	panic("no scenario " + name)
}

// TestScenarios checks every scenario's response twice, so that a plain
// go test catches a broken path and a response that changes on reuse.
func TestScenarios(t *testing.T) {
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			h, r, check := s.build(t)
			w := newRecorder()
			for i := range 2 {
				serve(h, w, r)
				if err := check(w); err != nil {
					t.Fatalf("response %d: %v", i+1, err)
				}
			}
		})
	}
}

// benchScenario checks the scenario's response, times it, and checks the
// last response again.
func benchScenario(b *testing.B, name string) {
	h, r, check := find(name).build(b)
	w := newRecorder()
	serve(h, w, r)
	if err := check(w); err != nil {
		b.Fatalf("before timing: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		r.reset()
		h.ServeHTTP(w, r.req)
	}
	if err := check(w); err != nil {
		b.Fatalf("after timing: %v", err)
	}
}

// benchGroup runs the scenarios named group/…, each as a sub-benchmark.
func benchGroup(b *testing.B, group string) {
	n := 0
	for _, s := range scenarios {
		sub, ok := strings.CutPrefix(s.name, group+"/")
		if !ok {
			continue
		}
		n++
		b.Run(sub, func(b *testing.B) { benchScenario(b, s.name) })
	}
	if n == 0 {
		b.Fatalf("no scenarios in group %s", group)
	}
}

func BenchmarkSuccess(b *testing.B)    { benchGroup(b, "Success") }
func BenchmarkFloor(b *testing.B)      { benchScenario(b, "Floor") }
func BenchmarkNotFound(b *testing.B)   { benchGroup(b, "NotFound") }
func BenchmarkConflict(b *testing.B)   { benchGroup(b, "Conflict") }
func BenchmarkValidation(b *testing.B) { benchGroup(b, "Validation") }
func BenchmarkPanic(b *testing.B)      { benchGroup(b, "Panic") }
