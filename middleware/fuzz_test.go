package middleware_test

// FuzzProblemDetails builds a random error (or panic) and a random request
// from the fuzzer's bytes, serves them through an Echo with the library
// mounted, and checks that the client always gets exactly one documented
// error status and a valid problem, and that nothing panics.
//
// The program bytes drive the construction; the text is cut at '|' into
// the strings the construction needs. Once the program runs out, every
// byte reads as 0, which builds a plain error, so every input terminates.

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// Bits of the program's first byte, the action.
const (
	fuzzRouteMask  = 0x03 // 0 return, 1 c.Error, 2 and 3 panic
	fuzzRecover    = 0x04 // the route has Echo's Recover, which sends panics with c.Error
	fuzzBind       = 0x08 // the handler binds and validates the request first
	fuzzCanceled   = 0x10 // the client is gone: the request's context is canceled
	fuzzHeaders    = 0x20 // the handler sets response headers before failing
	fuzzRouterMiss = 0x40 // the request misses the routes: the router's 404 or 405
	fuzzExpose     = 0x80 // ExposeInternalErrors is on
)

// Bits of the program's second byte.
const (
	fuzzHookPanics = 0x01 // the OnError hook panics
	fuzzRawPath    = 0x02 // the URL has a RawPath: the fuzzed bytes as they are
	fuzzKnownPath  = 0x04 // with fuzzRouterMiss: a known path, so a wrong method is a 405
)

// Opcodes of the error builder; a byte is taken modulo fuzzOps.
const (
	opText        = iota // errors.New
	opWrap               // fmt.Errorf("%s: %w")
	opJoin               // errors.Join of 0 to 3 errors, some nil
	opHTTPError          // *echo.HTTPError with a random code, message and internal
	opBinding            // *echo.BindingError
	opProblem            // *problem.Problem with random members and extensions
	opStatusCoder        // an error with StatusCode() int
	opContext            // context.DeadlineExceeded or context.Canceled
	opCycle              // an error whose Unwrap returns itself, or loops back to it
	opPanicky            // an error whose Error, Unwrap or Is panics
	opStdlib             // JSON, XML, gzip, flate, EOF and body-limit errors
	opValidation         // validator errors: the library's, bare or invalid
	opDomain             // an error a Rule matches
	opRetryAfter         // an error with RetryAfter() time.Duration
	opTypedNil           // a nil pointer of an error type, in an interface
	opBackref            // the innermost enclosing cycle node, closing the loop
	opMulti              // a custom error with Unwrap() []error
	opDiamond            // Unwrap() []error with the same error several times: a DAG
	fuzzOps
)

// Opcodes of panic values.
const (
	pvString = iota
	pvError
	pvStruct
	pvNil
	pvAbort // http.ErrAbortHandler: net/http's signal, which must propagate
	pvPanickyError
	pvInt
	pvPanickyStringer
	pvHTTPError
	pvOps
)

// fuzzUnwrapLimit bounds the Unwrap calls one request may make on the
// cycle nodes: the library walks at most 64 errors per walk, so anything
// near this limit is a walk without a bound.
const fuzzUnwrapLimit = 10000

var errFuzzUnbounded = errors.New("fuzz: unbounded walk over an error chain")

// fuzzCounter counts the Unwrap calls on cycle nodes during one request.
type fuzzCounter struct{ n int }

func (c *fuzzCounter) tick() {
	c.n++
	if c.n > fuzzUnwrapLimit {
		panic(errFuzzUnbounded) // stops the endless loop, so the test can report it
	}
}

// fuzzCycle unwraps to next, or to itself when next is nil.
type fuzzCycle struct {
	msg   string
	next  error
	count *fuzzCounter
}

func (e *fuzzCycle) Error() string { return "cycle: " + e.msg } // never recurses
func (e *fuzzCycle) Unwrap() error {
	e.count.tick()
	if e.next == nil {
		return e
	}
	return e.next
}

// fuzzCycleMulti unwraps to itself and next, as a join would.
type fuzzCycleMulti struct {
	next  error
	count *fuzzCounter
}

func (e *fuzzCycleMulti) Error() string { return "cycle of many" }
func (e *fuzzCycleMulti) Unwrap() []error {
	e.count.tick()
	return []error{e, e.next}
}

// fuzzDiamond unwraps to the same error several times. Nested, diamonds
// make a small graph with exponentially many paths, which a walk that
// does not remember what it visited follows one by one.
type fuzzDiamond struct {
	width int
	next  error
	count *fuzzCounter
}

func (e *fuzzDiamond) Error() string { return "diamond" }
func (e *fuzzDiamond) Unwrap() []error {
	e.count.tick()
	errs := make([]error, e.width)
	for i := range errs {
		errs[i] = e.next
	}
	return errs
}

type fuzzStatusError struct {
	code int
	msg  string
	next error
}

func (e *fuzzStatusError) Error() string   { return e.msg }
func (e *fuzzStatusError) StatusCode() int { return e.code }
func (e *fuzzStatusError) Unwrap() error   { return e.next }

// fuzzPanicky panics in the method named by where.
type fuzzPanicky struct {
	where int // 0 Error, 1 Unwrap, 2 Is
	next  error
}

func (e *fuzzPanicky) Error() string {
	if e.where == 0 {
		panic("Error method panics")
	}
	return "panicky"
}

func (e *fuzzPanicky) Unwrap() error {
	if e.where == 1 {
		panic("Unwrap method panics")
	}
	return e.next
}

func (e *fuzzPanicky) Is(target error) bool {
	if e.where == 2 {
		panic("Is method panics")
	}
	return false
}

type fuzzPanickyStringer struct{}

func (fuzzPanickyStringer) String() string { panic("String method panics") }

type fuzzRetry struct {
	d    time.Duration
	next error
}

func (e *fuzzRetry) Error() string             { return "retry later" }
func (e *fuzzRetry) RetryAfter() time.Duration { return e.d }
func (e *fuzzRetry) Unwrap() error             { return e.next }

type fuzzMulti struct{ errs []error }

func (e *fuzzMulti) Error() string   { return "many" }
func (e *fuzzMulti) Unwrap() []error { return e.errs }

type fuzzLocked struct{ who string }

func (e *fuzzLocked) Error() string { return "locked by " + e.who }

var errFuzzNotFound = errors.New("fuzz: not found")

type fuzzPanicStruct struct {
	A string
	B []int
}

// fuzzItem and fuzzForm are validated with fuzzed values, and bound from
// fuzzed bodies and queries.
type fuzzItem struct {
	Code string `json:"code" xml:"code" validate:"len=2"`
}

type fuzzForm struct {
	Email   string            `json:"email" xml:"email" form:"email" validate:"omitempty,email"`
	Name    string            `json:"name" xml:"name" form:"name" validate:"max=3"`
	Confirm string            `json:"confirm" validate:"omitempty,eqfield=Name"`
	Tags    map[string]string `json:"tags" validate:"dive,keys,max=2,endkeys,max=2"`
	Items   []fuzzItem        `json:"items" xml:"item" validate:"dive"`
	Limit   int               `query:"limit" json:"-" validate:"omitempty,max=10"`
	Born    time.Time         `json:"born" form:"born"`
}

var fuzzCodes = [...]int{
	0, -1, 99, 100, 200, 204, 301, 304, 399, 400, 401, 403, 404, 405, 406, 409, 413, 415, 418,
	422, 423, 428, 429, 431, 451, 499, 500, 501, 502, 503, 504, 507, 511, 599, 600, 1000,
	math.MaxInt32, math.MinInt32, math.MaxInt, math.MinInt,
}

var fuzzMethods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
	http.MethodPatch, http.MethodOptions, http.MethodTrace, http.MethodConnect, "PROPFIND",
}

var fuzzContentTypes = [...]string{
	"application/json", "application/xml", "text/xml", "application/x-www-form-urlencoded",
	"multipart/form-data; boundary=x", "text/plain", "", "application/json; charset=utf-8",
}

// fuzzPlan is what the handler does for one input. The handler records
// what happened in it.
type fuzzPlan struct {
	route      int
	recover    bool
	bind       bool
	headers    bool
	hookPanics bool
	err        error
	panicValue any
	count      *fuzzCounter

	handled error // the error the handler reported, when it did not panic
}

type fuzzPlanKey struct{}

// fuzzReader reads the program.
type fuzzReader struct {
	prog   []byte
	pieces []string
	next   int
	nodes  int
	count  *fuzzCounter
	cycle  error // the innermost cycle node under construction
}

func (r *fuzzReader) byte() byte {
	if len(r.prog) == 0 {
		return 0
	}
	b := r.prog[0]
	r.prog = r.prog[1:]
	return b
}

func (r *fuzzReader) str() string {
	if len(r.pieces) == 0 {
		return ""
	}
	s := r.pieces[r.next%len(r.pieces)]
	r.next++
	return s
}

func (r *fuzzReader) code() int {
	b := r.byte()
	if b&0x80 == 0 {
		return fuzzCodes[int(b)%len(fuzzCodes)]
	}
	return int(int16(uint16(r.byte())<<8 | uint16(r.byte())))
}

func (r *fuzzReader) maybe(depth int) error {
	if r.byte()%3 == 0 {
		return nil
	}
	return r.err(depth + 1)
}

const (
	fuzzMaxDepth = 8
	fuzzMaxNodes = 48
)

var (
	fuzzValidator        = middleware.NewValidator()
	fuzzForeignValidator = validator.New()
)

func (r *fuzzReader) err(depth int) error {
	if depth > fuzzMaxDepth || r.nodes > fuzzMaxNodes {
		return errors.New(r.str())
	}
	r.nodes++
	switch r.byte() % fuzzOps {
	case opWrap:
		return fmt.Errorf("%s: %w", r.str(), r.err(depth+1))
	case opJoin:
		errs := make([]error, r.byte()%4)
		for i := range errs {
			errs[i] = r.maybe(depth)
		}
		return errors.Join(errs...) // nil when all are nil
	case opHTTPError:
		return &echo.HTTPError{Code: r.code(), Message: r.message(depth), Internal: r.maybe(depth)}
	case opBinding:
		return echo.NewBindingError(r.str(), []string{r.str()}, r.message(depth), r.maybe(depth))
	case opProblem:
		return r.problem(depth)
	case opStatusCoder:
		return &fuzzStatusError{code: r.code(), msg: r.str(), next: r.maybe(depth)}
	case opContext:
		switch r.byte() % 4 {
		case 0:
			return context.DeadlineExceeded
		case 1:
			return context.Canceled
		case 2:
			return fmt.Errorf("%s: %w", r.str(), context.DeadlineExceeded)
		default:
			return fmt.Errorf("%s: %w", r.str(), context.Canceled)
		}
	case opCycle:
		saved := r.cycle
		var node error
		if r.byte()%2 == 0 {
			c := &fuzzCycle{msg: r.str(), count: r.count}
			r.cycle, node = c, c
			c.next = r.maybe(depth)
		} else {
			c := &fuzzCycleMulti{count: r.count}
			r.cycle, node = c, c
			c.next = r.maybe(depth)
		}
		r.cycle = saved
		return node
	case opPanicky:
		return &fuzzPanicky{where: int(r.byte() % 3), next: r.maybe(depth)}
	case opStdlib:
		return r.stdlib()
	case opValidation:
		return r.validation()
	case opDomain:
		if r.byte()%2 == 0 {
			return fmt.Errorf("%s: %w", r.str(), errFuzzNotFound)
		}
		return &fuzzLocked{who: r.str()}
	case opRetryAfter:
		b := r.byte()
		d := time.Duration(int64(int8(b))) * time.Second
		if b&0x80 != 0 && b&0x40 != 0 {
			d = time.Duration(math.MaxInt64)
		}
		return &fuzzRetry{d: d, next: r.maybe(depth)}
	case opTypedNil:
		switch r.byte() % 5 {
		case 0:
			return (*echo.HTTPError)(nil)
		case 1:
			return (*problem.Problem)(nil)
		case 2:
			return (*echo.BindingError)(nil)
		case 3:
			return (*fuzzStatusError)(nil)
		default:
			return (*http.MaxBytesError)(nil)
		}
	case opBackref:
		if r.cycle != nil {
			return r.cycle
		}
		return errors.New(r.str())
	case opDiamond:
		return &fuzzDiamond{width: 2 + int(r.byte()%8), next: r.err(depth + 1), count: r.count}
	case opMulti:
		errs := make([]error, r.byte()%4)
		for i := range errs {
			errs[i] = r.maybe(depth)
		}
		return &fuzzMulti{errs: errs}
	default: // opText
		return errors.New(r.str())
	}
}

func (r *fuzzReader) message(depth int) any {
	switch r.byte() % 6 {
	case 0:
		return r.str()
	case 1:
		return r.err(depth + 1)
	case 2:
		return int(r.byte())
	case 3:
		return map[string]any{r.str(): r.str()}
	case 4:
		return nil
	default:
		return []byte(r.str())
	}
}

func (r *fuzzReader) problem(depth int) error {
	p := &problem.Problem{
		Type:     r.str(),
		Title:    r.str(),
		Status:   r.code(),
		Detail:   r.str(),
		Instance: r.str(),
	}
	if n := int(r.byte() % 4); n > 0 {
		p.Extensions = make(map[string]any, n)
		for range n {
			p.Extensions[r.str()] = r.value(0)
		}
	}
	if r.byte()%2 == 0 {
		return p.WithCause(r.maybe(depth))
	}
	return p
}

// value is a random extension value, encodable or not.
func (r *fuzzReader) value(depth int) any {
	switch r.byte() % 14 {
	case 0:
		return r.str()
	case 1:
		return math.NaN()
	case 2:
		return math.Inf(1)
	case 3:
		return int(int8(r.byte()))
	case 4:
		return r.byte()%2 == 0
	case 5:
		return nil
	case 6:
		return make(chan int)
	case 7:
		return func() {}
	case 8:
		m := map[string]any{}
		m[r.str()] = m // a cycle
		return m
	case 9:
		if depth > 3 {
			return r.str()
		}
		return map[string]any{r.str(): r.value(depth + 1), r.str(): r.value(depth + 1)}
	case 10:
		if depth > 3 {
			return nil
		}
		return []any{r.value(depth + 1), r.value(depth + 1)}
	case 11:
		return []problem.FieldError{{Detail: r.str(), Pointer: r.str(), Rule: r.str()}}
	case 12:
		return json.Number(r.str())
	default:
		return 1.5e300 * float64(int8(r.byte()))
	}
}

func (r *fuzzReader) stdlib() error {
	switch r.byte() % 9 {
	case 0:
		var v any
		return json.Unmarshal([]byte(r.str()), &v) // a SyntaxError, or nil for valid JSON
	case 1:
		return &json.SyntaxError{Offset: int64(int8(r.byte()))}
	case 2:
		types := []reflect.Type{nil, reflect.TypeFor[int](), reflect.TypeFor[*[]string](), reflect.TypeFor[map[string]any](), reflect.TypeFor[chan int]()}
		return &json.UnmarshalTypeError{Value: r.str(), Type: types[int(r.byte())%len(types)], Field: r.str(), Offset: int64(r.byte())}
	case 3:
		return &http.MaxBytesError{Limit: int64(int8(r.byte()))}
	case 4:
		return flate.CorruptInputError(int64(r.byte()))
	case 5:
		if r.byte()%2 == 0 {
			return gzip.ErrHeader
		}
		return gzip.ErrChecksum
	case 6:
		return io.ErrUnexpectedEOF
	case 7:
		return &xml.SyntaxError{Msg: r.str(), Line: int(int8(r.byte()))}
	default:
		return fmt.Errorf("%s: %w", r.str(), io.EOF)
	}
}

func (r *fuzzReader) validation() error {
	form := &fuzzForm{
		Email:   r.str(),
		Name:    r.str(),
		Confirm: r.str(),
		Tags:    map[string]string{r.str(): r.str()},
		Items:   []fuzzItem{{Code: r.str()}},
	}
	switch r.byte() % 4 {
	case 0:
		return fuzzValidator.Validate(form) // the library's error, or nil
	case 1:
		var bare validator.ValidationErrors
		if errors.As(fuzzValidator.Validate(form), &bare) {
			return bare
		}
		return nil
	case 2:
		return fuzzForeignValidator.Struct(form) // Go names, no translations
	default:
		return fuzzValidator.Validate(nil) // InvalidValidationError
	}
}

func (r *fuzzReader) panicValue() any {
	switch r.byte() % pvOps {
	case pvError:
		return r.err(0)
	case pvStruct:
		return fuzzPanicStruct{A: r.str(), B: []int{1}}
	case pvNil:
		return nil
	case pvAbort:
		return http.ErrAbortHandler
	case pvPanickyError:
		return &fuzzPanicky{where: int(r.byte() % 3)}
	case pvInt:
		return int(r.byte())
	case pvPanickyStringer:
		return fuzzPanickyStringer{}
	case pvHTTPError:
		return &echo.HTTPError{Code: r.code(), Message: r.message(0)}
	default:
		return r.str()
	}
}

// fuzzLog collects what Echo's own logger says: "response already
// committed" means a second status line was attempted.
type fuzzLog = problemtest.Logs

// fuzzServers are built once: building a Validator per input would make
// the fuzzer slow.
var fuzzServers = sync.OnceValue(func() (s struct {
	plain, expose *echo.Echo
	log           *fuzzLog
},
) {
	s.log = &fuzzLog{}
	s.plain = fuzzEcho(false, s.log)
	s.expose = fuzzEcho(true, s.log)
	return s
})

func fuzzEcho(expose bool, log *fuzzLog) *echo.Echo {
	e := echo.New()
	e.Logger.SetOutput(log)
	middleware.Mount(e, middleware.Config{
		TypeBase: "https://api.example.com/problems/",
		Rules: []middleware.Rule{
			middleware.Is(errFuzzNotFound, status.NotFound),
			middleware.As[*fuzzLocked](status.Locked).WithDetail("The record is locked."),
		},
		ExposeInternalErrors: expose,
		// Enabled, so that records and stacks are built, and discarded.
		Logger: slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnError: func(c echo.Context, p *problem.Problem, err error) {
			if plan, ok := c.Request().Context().Value(fuzzPlanKey{}).(*fuzzPlan); ok && plan.hookPanics {
				panic("OnError hook panics")
			}
		},
	})
	e.Validator = middleware.NewValidator()
	e.Any("/f/*", fuzzHandler)
	e.Any("/g/*", fuzzHandler, echomw.RecoverWithConfig(echomw.RecoverConfig{DisablePrintStack: true}))
	e.GET("/known", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	return e
}

func fuzzHandler(c echo.Context) error {
	plan := c.Request().Context().Value(fuzzPlanKey{}).(*fuzzPlan)
	if plan.headers {
		h := c.Response().Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", "4242")
		h.Set("ETag", `"v1"`)
		h.Set("Location", "/elsewhere")
		h.Set("Vary", "Origin")
		h.Set("Retry-After", "120")
		h.Set("WWW-Authenticate", `Basic realm="x"`)
	}
	err := plan.err
	if plan.bind {
		var form fuzzForm
		if berr := c.Bind(&form); berr != nil {
			err = berr
		} else if verr := c.Validate(&form); verr != nil {
			err = verr
		}
	}
	if plan.route >= 2 {
		panic(plan.panicValue)
	}
	plan.handled = err
	if plan.route == 1 {
		c.Error(err)
		return nil
	}
	return err
}

// fuzzChainHas reports whether target is in err's chain, walking at most
// a bounded number of errors and surviving panicking methods.
func fuzzChainHas(err, target error) (found bool) {
	defer func() {
		if recover() != nil {
			found = false
		}
	}()
	todo := []error{err}
	for visited := 0; len(todo) > 0 && visited < 64; visited++ {
		e := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if e == nil {
			continue
		}
		if e == target {
			return true
		}
		switch u := e.(type) {
		case *fuzzCycle:
			todo = append(todo, u.next) // no Unwrap: that would count
		case *fuzzCycleMulti:
			todo = append(todo, u.next)
		case *fuzzDiamond:
			todo = append(todo, u.next)
		case interface{ Unwrap() error }:
			todo = append(todo, u.Unwrap())
		case interface{ Unwrap() []error }:
			todo = append(todo, u.Unwrap()...)
		}
	}
	return false
}

// fuzzWriter counts status lines.
type fuzzWriter struct {
	*httptest.ResponseRecorder
	statusLines int
	implicit    bool // a body was written before any status line
}

func (w *fuzzWriter) WriteHeader(code int) {
	w.statusLines++
	w.ResponseRecorder.WriteHeader(code)
}

func (w *fuzzWriter) Write(b []byte) (int, error) {
	if w.statusLines == 0 {
		w.implicit = true
	}
	return w.ResponseRecorder.Write(b)
}

func FuzzProblemDetails(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s.method, s.path, s.accept, s.lang, s.traceparent, s.requestID, s.program, s.text)
	}
	f.Fuzz(func(t *testing.T, method uint8, path, accept, lang, traceparent, requestID string, program []byte, text string) {
		fuzzOne(t, method, path, accept, lang, traceparent, requestID, program, text)
	})
}

func fuzzOne(t *testing.T, method uint8, path, accept, lang, traceparent, requestID string, program []byte, text string) {
	count := &fuzzCounter{}
	r := &fuzzReader{prog: program, pieces: strings.Split(text, "|"), count: count}
	action, extras := r.byte(), r.byte()
	plan := &fuzzPlan{
		route:      int(action & fuzzRouteMask),
		recover:    action&fuzzRecover != 0,
		bind:       action&fuzzBind != 0,
		headers:    action&fuzzHeaders != 0,
		hookPanics: extras&fuzzHookPanics != 0,
		count:      count,
	}
	if plan.route >= 2 {
		plan.panicValue = r.panicValue()
	} else if plan.err = r.err(0); plan.err == nil {
		plan.err = errors.New("a join of nothing") // a nil error is no error
	}
	count.n = 0 // building may have unwrapped

	// The request.
	m := fuzzMethods[int(method)%len(fuzzMethods)]
	prefix := "/f/"
	if plan.recover {
		prefix = "/g/"
	}
	switch {
	case action&fuzzRouterMiss != 0 && extras&fuzzKnownPath != 0:
		prefix, path = "/known", ""
		if m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions {
			m = http.MethodPost // a 405; OPTIONS would get Echo's 204
		}
	case action&fuzzRouterMiss != 0:
		prefix = "/" // any path, "//host" and "/f/x" included
	}
	u := &url.URL{Path: prefix + path}
	if extras&fuzzRawPath != 0 {
		// The raw bytes as RawPath: EscapedPath uses them when they are a
		// valid encoding of Path, brackets and all, and Echo routes on them.
		u.RawPath = prefix + path
	}
	body := ""
	if plan.bind {
		body = r.str()
		u.RawQuery = r.str()
	}
	ctx := context.WithValue(context.Background(), fuzzPlanKey{}, plan)
	if action&fuzzCanceled != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		cancel()
	}
	req := (&http.Request{
		Method:        m,
		URL:           u,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Host:          "api.example.com",
		RemoteAddr:    "192.0.2.1:1234",
	}).WithContext(ctx)
	for k, v := range map[string]string{"Accept": accept, "Accept-Language": lang, "Traceparent": traceparent, "X-Request-Id": requestID} {
		if v != "" {
			req.Header[k] = []string{v}
		}
	}
	if plan.bind {
		req.Header["Content-Type"] = []string{fuzzContentTypes[int(r.byte())%len(fuzzContentTypes)]}
	}

	servers := fuzzServers()
	e := servers.plain
	if action&fuzzExpose != 0 {
		e = servers.expose
	}
	servers.log.Take()

	w := &fuzzWriter{ResponseRecorder: httptest.NewRecorder()}
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		e.ServeHTTP(w, req)
	}()
	desc := fmt.Sprintf("%s %q route=%d recover=%v bind=%v canceled=%v headers=%v expose=%v hookPanics=%v err=%s panic=%s",
		m, u, plan.route, plan.recover, plan.bind, action&fuzzCanceled != 0, plan.headers, action&fuzzExpose != 0, plan.hookPanics,
		fuzzDescribe(plan.err), fuzzDescribe(plan.panicValue))

	if count.n > fuzzUnwrapLimit {
		t.Fatalf("%s: the error chain was unwrapped more than %d times: a walk without a bound over a cyclic or shared chain", desc, fuzzUnwrapLimit)
	}
	handlerRan := action&fuzzRouterMiss == 0
	abort := handlerRan && plan.route >= 2 && plan.panicValue == http.ErrAbortHandler
	if panicked != nil {
		if abort && panicked == http.ErrAbortHandler {
			if w.statusLines != 0 || w.Body.Len() != 0 {
				t.Fatalf("%s: wrote %d %q before propagating http.ErrAbortHandler", desc, w.Code, w.Body)
			}
			return
		}
		t.Fatalf("%s: ServeHTTP panicked: %v", desc, panicked)
	}
	if abort {
		t.Fatalf("%s: http.ErrAbortHandler was swallowed; it must reach net/http", desc)
	}
	if log := servers.log.Take(); strings.Contains(log, "already committed") {
		t.Fatalf("%s: a second status line was attempted: %s", desc, log)
	}

	if w.statusLines == 0 && !w.implicit {
		// Only a client that is gone gets nothing.
		// Echo's Recover sends a panic's error value with c.Error: a
		// panic(context.Canceled) is an abort too.
		reported := plan.handled
		if perr, ok := plan.panicValue.(error); ok && plan.route >= 2 && plan.recover {
			reported = perr
		}
		if action&fuzzCanceled != 0 && handlerRan && fuzzChainHas(reported, context.Canceled) {
			return
		}
		t.Fatalf("%s: nothing was written", desc)
	}
	if w.implicit || w.statusLines != 1 {
		t.Fatalf("%s: %d status lines (body before status: %v)", desc, w.statusLines, w.implicit)
	}
	code, documented := status.Lookup(w.Code)
	if w.Code < 400 || w.Code > 599 || !documented || !code.IsError() {
		t.Fatalf("%s: HTTP status %d is not a documented error code", desc, w.Code)
	}
	ct := w.Header().Get("Content-Type")
	if ct != problem.MediaType && ct != problem.MediaTypeXML {
		t.Fatalf("%s: Content-Type %q", desc, ct)
	}
	if m == http.MethodHead {
		if w.Body.Len() != 0 {
			t.Fatalf("%s: HEAD response has a body: %q", desc, w.Body)
		}
		return
	}
	for _, ra := range w.Header()["Retry-After"] {
		if _, err := http.ParseTime(ra); err != nil && (ra == "" || strings.Trim(ra, "0123456789") != "") {
			t.Fatalf("%s: Retry-After %q is neither delay-seconds nor an HTTP-date", desc, ra)
		}
	}
	if cl := w.Header().Get("Content-Length"); cl != "" && cl != fmt.Sprint(w.Body.Len()) {
		t.Fatalf("%s: Content-Length %s for a body of %d bytes", desc, cl, w.Body.Len())
	}
	p, err := problem.Parse(w.Result())
	if err != nil {
		t.Fatalf("%s: %d body is not a problem: %v: %q", desc, w.Code, err, w.Body)
	}
	if p.Status != w.Code {
		t.Fatalf("%s: body status %d, HTTP status %d: %q", desc, p.Status, w.Code, w.Body)
	}
	if ct == problem.MediaType {
		if err := problemtest.ValidateSchema(w.Body.Bytes()); err != nil {
			t.Fatalf("%s: Appendix A schema rejects %q: %v", desc, w.Body, err)
		}
	}
}

// fuzzDescribe describes an error or panic value for a failure message
// without calling methods that may panic or loop.
func fuzzDescribe(v any) string {
	if v == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%T", v)
}

type fuzzSeed struct {
	method                                     uint8
	path, accept, lang, traceparent, requestID string
	program                                    []byte
	text                                       string
}

// fuzzSeeds is the starting corpus: one input per row of the mapping
// table, route and kind of request, and the inputs that found bugs.
func fuzzSeeds() []fuzzSeed {
	const (
		get, head, post = 0, 1, 2
		jsonAccept      = "application/problem+json"
		xmlAccept       = "application/problem+xml"
		trace           = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	)
	s := func(method uint8, accept string, program []byte, text string) fuzzSeed {
		return fuzzSeed{method: method, path: "patients/p-1", accept: accept, lang: "fr", traceparent: trace, requestID: "req-1", program: program, text: text}
	}
	seeds := []fuzzSeed{
		// Row 7: plain, wrapped and joined errors, on each route.
		s(get, jsonAccept, []byte{0, 0, opText}, "connection refused"),
		s(get, xmlAccept, []byte{1, 0, opWrap, opText}, "query|timeout"),
		s(head, jsonAccept, []byte{0, 0, opJoin, 3, 1, opText, 1, opText, 0}, "a|b|c"),
		s(get, "application/json, */*", []byte{1 | fuzzRecover, 0, opMulti, 2, 1, opText, 0}, "x"),
		// Row 5: Echo's errors with valid and invalid codes and odd messages.
		s(get, jsonAccept, []byte{0, 0, opHTTPError, 12, 0, 1, opText}, "Not Found|cause"),
		s(post, xmlAccept, []byte{0, 0, opHTTPError, 0, 1, opText, 0}, "boom"),
		s(get, jsonAccept, []byte{1, 0, opHTTPError, 1, 2, 7, 0}, ""),
		s(get, jsonAccept, []byte{0, 0, opHTTPError, 2, 3, 0}, "k|v"),
		s(get, jsonAccept, []byte{0, 0, opHTTPError, 18, 4, 0}, ""),
		s(get, jsonAccept, []byte{0, 0, opHTTPError, 35, 5, 0}, "bytes"),
		s(get, jsonAccept, []byte{0, 0, opHTTPError, 0x80, 0xff, 0x38, 0, 0}, ""),
		s(get, jsonAccept, []byte{0, 0, opHTTPError, 9, 0, 1, opHTTPError, 27, 0, 1, opText}, "outer|inner|cause"),
		s(get, jsonAccept, []byte{0, 0, opBinding, 0, 1, opText}, "limit|abc|failed|cause"),
		// Row 1: problems with odd members and unencodable extensions.
		s(get, jsonAccept, []byte{0, 0, opProblem, 12, 1, 0, 1, 1, opText}, "/problems/x|Title|Detail|/i|ext|v|cause"),
		s(get, xmlAccept, []byte{0, 0, opProblem, 0, 3, 1, 2, 6, 7, 1}, "about:blank|T|D|/i|nan|inf|chan"),
		s(get, jsonAccept, []byte{0, 0, opProblem, 27, 2, 8, 9, 0, 0, 1}, "t|T|D|/i|cyclic|self|nested|a|b"),
		s(get, xmlAccept, []byte{0, 0, opProblem, 12, 3, 10, 11, 12, 1}, "t|T|D|/i|list|errs|d|p|r|num"),
		s(get, jsonAccept, []byte{0, 0, opProblem, 35, 0, 1}, "|||"),
		// Rows 2, 3, 4 and 6.
		s(post, jsonAccept, []byte{0, 0, opValidation, 0}, "not-an-email|toolong|x|key-too-long|value|c"),
		s(post, xmlAccept, []byte{1, 0, opValidation, 1}, "a@b.co|ab|ab|k|v|xyz"),
		s(post, jsonAccept, []byte{0, 0, opValidation, 2}, "bad|long name|x|kkk|vvv|c"),
		s(post, jsonAccept, []byte{0, 0, opValidation, 3}, ""),
		s(get, jsonAccept, []byte{0, 0, opDomain, 0}, "lookup"),
		s(get, jsonAccept, []byte{1, 0, opDomain, 1}, "someone"),
		s(get, jsonAccept, []byte{0, 0, opStatusCoder, 18, 0}, "teapot"),
		s(get, jsonAccept, []byte{0, 0, opStatusCoder, 0x80, 0x01, 0xf4, 0}, "raw"),
		s(get, jsonAccept, []byte{0, 0, opContext, 0}, ""),
		s(get, jsonAccept, []byte{0, 0, opContext, 3}, "query"),
		s(get, jsonAccept, []byte{0 | fuzzCanceled, 0, opContext, 3}, "client left"),
		s(get, jsonAccept, []byte{1 | fuzzCanceled, 0, opContext, 1}, ""),
		s(get, jsonAccept, []byte{0, 0, opStdlib, 0}, `{"a":`),
		s(get, jsonAccept, []byte{0, 0, opStdlib, 2, 0}, "string|a.b"),
		s(get, jsonAccept, []byte{0, 0, opStdlib, 3, 10}, ""),
		s(get, jsonAccept, []byte{0, 0, opStdlib, 4, 7}, ""),
		s(get, jsonAccept, []byte{0, 0, opStdlib, 7, 3}, "bad xml"),
		s(get, jsonAccept, []byte{0, 0, opRetryAfter, 5, 0}, ""),
		s(get, jsonAccept, []byte{0, 0, opRetryAfter, 0xff, 1, opContext, 0}, ""),
		s(get, jsonAccept, []byte{0, 0, opTypedNil, 0}, ""),
		s(get, jsonAccept, []byte{0, 0, opTypedNil, 1}, ""),
		s(get, jsonAccept, []byte{0, 0, opTypedNil, 2}, ""),
		// Errors whose own methods panic.
		s(get, jsonAccept, []byte{0, 0, opPanicky, 0, 0}, ""),
		s(get, jsonAccept, []byte{1, 0, opPanicky, 1, 0}, ""),
		s(get, xmlAccept, []byte{0, 0, opPanicky, 2, 0}, ""),
		// Panics, recovered by the library or by Echo's Recover.
		s(get, jsonAccept, []byte{2, 0, pvString}, "index out of range"),
		s(get, xmlAccept, []byte{2 | fuzzRecover, 0, pvError, opWrap, opText}, "nil map|write"),
		s(get, jsonAccept, []byte{2, 0, pvStruct}, "state"),
		s(head, jsonAccept, []byte{2, 0, pvNil}, ""),
		s(get, jsonAccept, []byte{2 | fuzzRecover, 0, pvNil}, ""),
		s(get, jsonAccept, []byte{2, 0, pvAbort}, ""),
		s(get, jsonAccept, []byte{2 | fuzzRecover, 0, pvAbort}, ""),
		s(get, jsonAccept, []byte{2, 0, pvPanickyError, 0}, ""),
		s(get, jsonAccept, []byte{2 | fuzzRecover, 0, pvPanickyError, 0}, ""),
		s(get, jsonAccept, []byte{2, 0, pvPanickyStringer}, ""),
		s(get, jsonAccept, []byte{2 | fuzzRecover, 0, pvHTTPError, 12, 0}, "gone"),
		s(get, jsonAccept, []byte{2 | fuzzHeaders, 0, pvString}, "after headers"),
		// Requests: binding, router errors, odd paths and headers, HEAD.
		s(post, jsonAccept, []byte{fuzzBind, 0, opText, 0}, `unused|{"age":"x","email":"bad"}|limit=5`),
		s(post, jsonAccept, []byte{fuzzBind, 0, opText, 2}, `unused|<form><email>bad</email>|x=1`),
		s(post, jsonAccept, []byte{fuzzBind, 0, opText, 3}, `unused|email=bad&born=yesterday|`),
		s(get, jsonAccept, []byte{fuzzBind, 0, opText, 6}, `unused||limit=abc`),
		s(post, jsonAccept, []byte{fuzzBind, 0, opText, 5}, `unused|plain text|`),
		s(get, jsonAccept, []byte{fuzzRouterMiss, 0, opText}, ""),
		s(post, jsonAccept, []byte{fuzzRouterMiss, fuzzKnownPath, opText}, ""),
		s(head, jsonAccept, []byte{fuzzRouterMiss, fuzzKnownPath, opText}, ""),
		s(get, jsonAccept, []byte{fuzzExpose, 0, opWrap, opText}, "exposed|cause"),
		s(get, jsonAccept, []byte{2 | fuzzExpose, 0, pvString}, "exposed panic"),
		s(get, jsonAccept, []byte{0, fuzzHookPanics, opText}, "hook"),
		s(get, jsonAccept, []byte{0, fuzzRawPath, opText}, "raw path"),
		{method: get, path: "/evil.example/a[0]", accept: jsonAccept, program: []byte{fuzzRouterMiss, fuzzRawPath, opText}, text: "network path"},
		// Cycles: the library's walks are bounded, and so must the rules be.
		s(get, jsonAccept, []byte{0, 0, opCycle, 0, 0}, "self"),
		s(get, jsonAccept, []byte{0, 0, opCycle, 1, 0}, "self, many"),
		s(get, jsonAccept, []byte{0, 0, opCycle, 0, 1, opHTTPError, 12, 4, 1, opBackref}, "via HTTPError"),
		s(get, jsonAccept, []byte{0, 0, opCycle, 0, 1, opProblem, 12, 0, 1, opBackref}, "t|T|D|/i"),
		s(get, jsonAccept, []byte{0, 0, opCycle, 0, 1, opDomain, 0}, "matched by a rule before the loop"),
		s(get, jsonAccept, []byte{0, 0, opDiamond, 7, opDiamond, 7, opDiamond, 7, opDiamond, 7, opDiamond, 7, opText}, "shared"),
		// A retry delay of "forever".
		s(get, jsonAccept, []byte{0, 0, opRetryAfter, 0xc0, 1, opStatusCoder, 22, 0}, "rate limited"),
		// The README's pattern: WithInstance(r.URL.Path), a decoded path.
		s(get, jsonAccept, []byte{0, 0, opProblem, 12, 0, 1}, "/problems/not-found|Not Found|No patient has this id.|/patients/Jean Dupont"),
		// Extension names that are letters to Go but not XML names.
		s(get, xmlAccept, []byte{0, 0, opProblem, 12, 1, 0, 1}, "t|T|D|/i|ª|v"),
		s(get, xmlAccept, []byte{0, 0, opProblem, 12, 1, 9, 0, 0, 1}, "t|T|D|/i|ext|ǅ|v|b|w"),
	}
	odd := []fuzzSeed{
		{method: get, path: "a b/%zz/\x00/\xff/<script>", accept: "application/xml;q=0.9, application/json;q=0.1", lang: "ja;q=0.5, pt-BR", traceparent: "garbage", requestID: "bad id\r\n", program: []byte{0, 0, opText}, text: "x"},
		{method: head, path: "/double//slash", accept: "*/*;q=0", lang: "*", traceparent: trace + "-x", requestID: strings.Repeat("a", 200), program: []byte{1, 0, opHTTPError, 3, 0, 0}, text: "y"},
		{method: 9, path: strings.Repeat("é", 1500), accept: strings.Repeat("a/b;q=1,", 1000), lang: "zz", program: []byte{0, fuzzRawPath, opProblem, 1, 0, 0}, text: "t|T|D|/i"},
	}
	return append(seeds, odd...)
}
