// Package middleware renders every error of an Echo v4 service as an
// RFC 9457 problem with a documented status code.
//
// Mount it once, before other middleware:
//
//	middleware.Mount(e, middleware.Config{
//		TypeBase: "/problems/",
//		Rules: []middleware.Rule{
//			middleware.Is(clinic.ErrPatientNotFound, status.NotFound),
//			middleware.Is(clinic.ErrDuplicateEmail, status.Conflict),
//		},
//	})
//	e.Validator = middleware.NewValidator()
//
// Echo delivers errors by two routes, and Mount covers both: errors that
// handlers and middleware return pass through the ProblemDetails
// middleware, which also recovers panics; errors sent with c.Error (Echo's
// Recover and RateLimiter do this) reach the HTTPErrorHandler. Both use
// one renderer. The mapping from errors to codes is in mapping.go.
package middleware

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"runtime"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"

	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// Config configures the ProblemDetails middleware and the HTTPErrorHandler.
// The zero value of each field means its default.
type Config struct {
	// Skipper defines a function to skip the middleware. Errors of skipped
	// requests go to Echo's default error handler.
	// Default: echomw.DefaultSkipper, which skips nothing.
	Skipper echomw.Skipper

	// TypeBase makes problem type URIs: TypeBase + status.Code.Slug(),
	// such as "https://api.virtuheal.com/problems/not-found". Serve the
	// pages it points to with ProblemTypesHandler.
	// Default: "", which sends the type "about:blank".
	TypeBase string

	// Rules map the service's domain errors to documented codes. They are
	// tried in order after *problem.Problem and validation errors; the
	// first match wins. A rule with an undocumented or non-error code
	// makes the constructors panic.
	// Default: none.
	Rules []Rule

	// Challenge is the WWW-Authenticate value of a 401 response whose
	// handler set none (Echo's BasicAuth sets its own, which is kept).
	// Default: "Bearer".
	Challenge string

	// RetryAfter is the Retry-After of a 429 or 503 response when neither
	// the error (see RetryAfterer) nor the handler gave one. It is sent in
	// whole seconds, rounded up.
	// Default: 1s.
	RetryAfter time.Duration

	// ExposeInternalErrors adds a "debug" extension with the error chain
	// and, for panics, the stack. It never changes detail. For local
	// development only: it logs a warning when the handler is built.
	// Default: false.
	ExposeInternalErrors bool

	// Logger receives one record per error response.
	// Default: nil, which means slog.Default() at the time of the error.
	Logger *slog.Logger

	// ClientErrorLevel is the level of records for 4xx responses and
	// client aborts; 5xx records are always at Error.
	// Default: slog.LevelInfo (the zero Level).
	ClientErrorLevel slog.Level

	// OnError, when set, is called for every problem sent, with the final
	// problem and the original error: a place for metrics and tracing. It
	// must not modify the problem. A panic in it is recovered and logged.
	// Default: nil.
	OnError func(c echo.Context, p *problem.Problem, err error)
}

// DefaultConfig is the default configuration.
var DefaultConfig = Config{
	Skipper:          echomw.DefaultSkipper,
	Challenge:        "Bearer",
	RetryAfter:       time.Second,
	ClientErrorLevel: slog.LevelInfo,
}

// ProblemDetails returns the middleware with DefaultConfig.
func ProblemDetails() echo.MiddlewareFunc {
	return ProblemDetailsWithConfig(DefaultConfig)
}

// ProblemDetailsWithConfig returns a middleware that renders the errors
// returned through it, and the panics raised below it, as problems.
// Errors sent with c.Error bypass middleware: set HTTPErrorHandler too, or
// use Mount, which does both.
func ProblemDetailsWithConfig(cfg Config) echo.MiddlewareFunc {
	return newHandler(cfg).middleware
}

// HTTPErrorHandler returns an echo.HTTPErrorHandler that renders errors as
// problems. Echo calls it for errors sent with c.Error and for errors no
// middleware handled.
func HTTPErrorHandler(cfg Config) echo.HTTPErrorHandler {
	return newHandler(cfg).handleError
}

// Mount installs the library on e with one renderer for both of Echo's
// error routes: it sets e.HTTPErrorHandler and adds the ProblemDetails
// middleware. Call it before e.Use adds other middleware, so that it
// wraps them and recovers their panics too; only an access logger, which
// should see the final status, and Echo's Recover belong outside it. (A
// Recover mounted inside passes a panic's value to c.Error, so that
// panic(echo.ErrForbidden) would become a 403; the library's own recovery
// makes every panic a 500.)
//
// The middleware Mount adds hands the errors and panics it catches to
// e.HTTPErrorHandler, so a service that wraps or replaces that handler
// after Mount changes both routes alike.
func Mount(e *echo.Echo, cfg Config) {
	h := newHandler(cfg)
	e.HTTPErrorHandler = h.handleError
	if h.skip != nil {
		e.Use(h.middleware) // a Skipper needs the handler on every request
		return
	}
	e.Use(delegate)
}

// delegate is Mount's middleware. It hands the errors it gets, and a
// panic raised below it (a 500, whatever it carried), to the
// HTTPErrorHandler. Echo builds the chain of middleware on every request,
// so each one costs a closure per request; capturing next alone keeps
// delegate's as small as a no-op middleware's.
//
// The deferred function asks recover only when the body did not return:
// on the path of every request, that spares a call into the runtime.
func delegate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		returned := false
		defer func() {
			if !returned {
				if r := recover(); r != nil {
					c.Echo().HTTPErrorHandler(panicked(r), c)
				}
			}
		}()
		if err := next(c); err != nil {
			c.Echo().HTTPErrorHandler(err, c)
		}
		returned = true
		return nil
	}
}

// handler is a built Config: everything that does not depend on the
// request is computed here, once.
type handler struct {
	cfg        Config
	skip       echomw.Skipper // nil when nothing is skipped: no call per request
	typeURIs   [errorCodes]string
	templates  [errorCodes]templateSet
	challenge  []string
	retryAfter []string

	// ruleTemplates hold, for each rule with a detail, its problem in
	// each language, encoded once.
	ruleTemplates []templateSet
	// routerErrors are the outcomes of the router's own errors, mapped
	// once: they are most of the error traffic scanners cause.
	routerErrors []routerError
}

// templateSet is one problem, encoded once in each language.
type templateSet [len(languages)]*problem.Template

// templatesFor encodes the problem for code with the given detail: its
// type URI, and its title in each language.
func (h *handler) templatesFor(code status.Code, detail string) (set templateSet) {
	for i := range languages {
		p := problem.Problem{Type: h.typeURIs[code-400], Title: languages[i].title(code), Status: int(code), Detail: detail}
		set[i] = p.Template()
	}
	return set
}

// routerError is a fixed error of Echo's router and the outcome the
// mapping table gives it.
type routerError struct {
	err     *echo.HTTPError
	message any
	outcome outcome
}

// errorCodes is the size of tables indexed by code-400.
const errorCodes = 200

func newHandler(cfg Config) *handler {
	skip := cfg.Skipper
	if skip != nil && reflect.ValueOf(skip).Pointer() == reflect.ValueOf(echomw.DefaultSkipper).Pointer() {
		skip = nil // the default skips nothing: not worth a call per request
	}
	if cfg.Challenge == "" {
		cfg.Challenge = DefaultConfig.Challenge
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultConfig.RetryAfter
	}
	for _, r := range cfg.Rules {
		if r.target == nil && r.matches == nil {
			panic("apierrors/middleware: a Rule must be built with Is or As")
		}
		if c, ok := status.ErrorCode(int(r.code)); !ok || c != r.code {
			panic(fmt.Sprintf("apierrors/middleware: rule %s maps to %d, which is not a documented error code", r.name, r.code))
		}
	}
	h := &handler{
		cfg:        cfg,
		skip:       skip,
		challenge:  []string{cfg.Challenge},
		retryAfter: []string{retryAfterSeconds(cfg.RetryAfter)},
	}
	// The type, title, status and default detail of each documented error
	// code, in each language, are encoded once, here.
	for _, c := range status.All() {
		if !c.IsError() {
			continue
		}
		h.typeURIs[c-400] = problem.BlankType
		if cfg.TypeBase != "" {
			h.typeURIs[c-400] = cfg.TypeBase + c.Slug()
		}
		h.templates[c-400] = h.templatesFor(c, c.Description())
	}
	h.ruleTemplates = make([]templateSet, len(cfg.Rules))
	for i, r := range cfg.Rules {
		if r.detail != "" {
			h.ruleTemplates[i] = h.templatesFor(r.code, r.detail)
		}
	}
	for _, he := range [...]*echo.HTTPError{echo.ErrNotFound, echo.ErrMethodNotAllowed} {
		re := routerError{err: he, message: he.Message}
		h.resolve(nil, he, &re.outcome)
		h.routerErrors = append(h.routerErrors, re)
	}
	if cfg.ExposeInternalErrors {
		h.logger().Warn("apierrors: ExposeInternalErrors is on: problem bodies carry internal error chains and stacks; never use it in production")
	}
	return h
}

func (h *handler) logger() *slog.Logger {
	if h.cfg.Logger != nil {
		return h.cfg.Logger
	}
	return slog.Default()
}

// retryAfterSeconds formats d as a Retry-After delay in whole seconds,
// rounded up; a negative delay is 0.
func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	s := d / time.Second
	if d%time.Second != 0 {
		s++ // rounding up by adding first would overflow near the maximum
	}
	return strconv.FormatInt(int64(s), 10)
}

// middleware renders returned errors and recovers panics: the middleware
// of ProblemDetailsWithConfig, and of Mount with a Skipper.
func (h *handler) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if h.skip != nil && h.skip(c) {
			return next(c)
		}
		return h.serve(c, next)
	}
}

// serve runs next, rendering its error or its panic, as a 500. A
// recovered panic returns nil, the unnamed result's zero value. As in
// delegate, recover is asked only when the body did not return.
func (h *handler) serve(c echo.Context, next echo.HandlerFunc) error {
	returned := false
	defer func() {
		if !returned {
			if r := recover(); r != nil {
				h.handle(c, panicked(r))
			}
		}
	}()
	if err := next(c); err != nil {
		h.handle(c, err)
	}
	returned = true
	return nil
}

// handleError is the echo.HTTPErrorHandler.
func (h *handler) handleError(err error, c echo.Context) {
	if h.skip != nil && h.skip(c) {
		c.Echo().DefaultHTTPErrorHandler(err, c)
		return
	}
	h.handle(c, err)
}

// handle maps err and sends the problem. It never panics: a panic in an
// error's own methods, the logger or the hook falls back to a fixed 500.
func (h *handler) handle(c echo.Context, err error) {
	defer func() {
		if r := recover(); r != nil {
			h.fail(c, &panicError{value: r})
		}
	}()
	if pe, ok := err.(*panicError); ok && pe.stack == nil && h.wantStack() {
		// Handed over by a deferred call that recovered it: the panicking
		// frames are still on the stack.
		pe.stack = panicStack()
	}
	res := c.Response()
	if res.Committed {
		if isProblemResponse(res.Header()) || h.seen(c) {
			// Already answered or logged for this request, by the other
			// error route: Echo's RequestLogger, for one, reports an error
			// with c.Error and then returns it too.
			return
		}
		// The handler wrote its own response, then failed. The client
		// already has a status line; all that is left is to log.
		h.log(c, err, &outcome{code: status.Code(res.Status)}, msgCommitted)
		return
	}
	var o outcome
	h.resolve(c, err, &o)
	if o.abort {
		if !h.seen(c) {
			h.log(c, err, &o, msgClientGone)
		}
		return
	}
	p := h.send(c, err, &o)
	h.log(c, err, &o, "")
	if h.cfg.OnError != nil {
		h.callOnError(c, p, err)
	}
}

// handledKey marks, in the request's context, an error that was logged
// without a problem being written, so that the same failure delivered by
// Echo's other error route is not logged twice.
const handledKey = "apierrors.handled"

// seen reports whether an error of this request was already logged
// without a response, and marks it so. Only those rare paths pay for the
// context's store.
func (h *handler) seen(c echo.Context) bool {
	if c.Get(handledKey) != nil {
		return true
	}
	c.Set(handledKey, true)
	return false
}

func (h *handler) callOnError(c echo.Context, p *problem.Problem, err error) {
	defer func() {
		if r := recover(); r != nil {
			h.logger().Error("apierrors: OnError hook panicked", slog.Any("panic", safeString(r)))
		}
	}()
	h.cfg.OnError(c, p, err)
}

// fail is the last resort when handling itself failed: a fixed 500.
func (h *handler) fail(c echo.Context, err error) {
	defer func() { _ = recover() }() // nothing more can be done
	if !c.Response().Committed {
		writeFallback(c)
	}
	h.logger().Error("apierrors: error handling failed", slog.String("error", safeError(err)))
}

// wantStack reports whether a panic's stack would be used: logged or, with
// ExposeInternalErrors, sent.
func (h *handler) wantStack() bool {
	return h.cfg.ExposeInternalErrors || h.logger().Enabled(context.Background(), slog.LevelError)
}

// panicError carries a recovered panic. It does not unwrap: whatever a
// panic carried, the response is a 500.
type panicError struct {
	value any
	stack []byte
}

// panicked is the error of a recovered panic. It panics again with
// http.ErrAbortHandler, net/http's signal to abort the response, which
// must reach the server.
func panicked(r any) *panicError {
	if r == http.ErrAbortHandler {
		panic(r)
	}
	return &panicError{value: r}
}

// panicStack returns the current goroutine's stack, cut at 16 KiB.
func panicStack() []byte {
	buf := make([]byte, 16<<10)
	return buf[:runtime.Stack(buf, false)]
}

func (p *panicError) Error() string { return "panic: " + safeString(p.value) }

// safeString formats a panic value or error; fmt recovers panics raised by
// its Error and String methods.
func safeString(v any) string { return fmt.Sprint(v) }

// safeError is err.Error() for errors whose Error method may panic.
func safeError(err error) string { return fmt.Sprint(err) }
