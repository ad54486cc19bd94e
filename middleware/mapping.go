package middleware

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// This file is the one place where errors become status codes. resolve
// tries the rows of the mapping table in order and the first match wins:
//
//  1. a *problem.Problem anywhere in the chain: its own members;
//  2. validation failures: 422 with an "errors" entry per field;
//     validator.InvalidValidationError is a programming error: 500;
//  3. the service's Rules, in the order given;
//  4. errors with a StatusCode() int method (Echo v5's HTTPStatusCoder);
//  5. *echo.HTTPError and *echo.BindingError, at any depth;
//  6. the standard library: deadlines 503, body limits 413, JSON 400,
//     and context.Canceled from a departed client: nothing is written;
//  7. anything else, and every panic: 500.
//
// Whatever the row, only documented codes are sent (status.ErrorCode), a
// 5xx never shows an error's text, and the detail defaults to the
// documented description.

// StatusCoder is implemented by errors that carry their HTTP status code.
// It is Echo v5's HTTPStatusCoder, so services can migrate without
// touching their errors.
type StatusCoder interface {
	StatusCode() int
}

// RetryAfterer is implemented by errors that know when the client may try
// again. Its value becomes the Retry-After header of a 429 or 503.
type RetryAfterer interface {
	RetryAfter() time.Duration
}

// A Rule maps a domain error to a documented status code, and optionally
// to a public detail. Build rules with Is and As.
type Rule struct {
	target     error            // Is: the sentinel
	comparable bool             // Is: whether == may compare with target
	matches    func(error) bool // As: tests one error of a chain, not its wrapped ones
	name       string
	code       status.Code
	detail     string
}

// Is returns a rule that matches errors for which errors.Is(err, target)
// holds: a sentinel such as ErrPatientNotFound. Unlike errors.Is, it
// looks at no more than a bounded number of errors, in the one walk over
// the chain that the whole mapping table shares, so a cyclic chain cannot
// hang the request.
func Is(target error, code status.Code) Rule {
	if target == nil {
		panic("apierrors/middleware: Is with a nil target")
	}
	return Rule{
		target:     target,
		comparable: reflect.TypeOf(target).Comparable(),
		name:       fmt.Sprintf("Is(%v)", target),
		code:       code,
	}
}

// As returns a rule that matches errors for which errors.As finds a T: an
// error type such as *LockedError. Like Is, it looks at a bounded number
// of errors.
func As[T error](code status.Code) Rule {
	return Rule{
		matches: func(e error) bool {
			if _, ok := e.(T); ok {
				return true
			}
			x, ok := e.(interface{ As(any) bool })
			var target T
			return ok && x.As(&target)
		},
		name: fmt.Sprintf("As[%v]", reflect.TypeFor[T]()),
		code: code,
	}
}

// WithDetail returns a copy of r that sends detail, which must be fit for
// the client, instead of the code's documented description.
func (r Rule) WithDetail(detail string) Rule {
	r.detail = detail
	return r
}

// outcome is what the mapping decided for one error.
type outcome struct {
	code         status.Code
	undocumented int    // the status asked for, when it was not documented
	detail       string // public detail; empty means the documented description
	title        string // a problem's own title; empty means the documented one
	typeURI      string // a problem's own type; empty means the configured one
	instance     string // a problem's own instance; empty means the request path
	extensions   map[string]any
	validation   validator.ValidationErrors
	validator    *Validator // produced validation, if it was ours
	rootType     reflect.Type
	binding      *echo.BindingError
	retryAfter   time.Duration
	hasRetry     bool
	abort        bool // the client is gone: write nothing
	panicked     bool
	panicStack   []byte
	matchedRule  string
	rule         int // 1 + the index of the matching rule, or 0
}

// setCode records the documented code to send for the number n.
func (o *outcome) setCode(n int) {
	code, ok := status.ErrorCode(n)
	o.code = code
	if !ok {
		o.undocumented = n
	}
}

// resolve runs the mapping table for err into o, which must be the zero
// outcome. c may be nil when err cannot be a client abort.
func (h *handler) resolve(c echo.Context, err error, o *outcome) {
	switch e := err.(type) {
	case *echo.HTTPError:
		for i := range h.routerErrors {
			// Echo's router errors are shared values: mapped once, as long
			// as nobody has changed them (SetInternal mutates the global).
			if re := &h.routerErrors[i]; e == re.err && e.Internal == nil && e.Message == re.message {
				*o = re.outcome
				return
			}
		}
	// The library's own errors, as handlers return them, hold nothing the
	// walk could find beyond themselves: a problem without a cause, and
	// the Validator's error, whose chain holds only validator's errors.
	case *problem.Problem:
		if e != nil && e.Unwrap() == nil {
			o.fromProblem(e)
			return
		}
	case *validationError:
		o.fromValidation(e)
		return
	}
	f := found{rules: h.cfg.Rules}
	f.scan(err)
	o.code = status.InternalServerError
	if f.retryAfter != nil {
		o.retryAfter, o.hasRetry = f.retryAfter.RetryAfter(), true
	}
	switch {
	case f.panic != nil: // 7: a panic is a 500, whatever it carried
		o.panicked, o.panicStack = true, f.panic.stack

	case f.problem != nil: // 1
		o.fromProblem(f.problem)

	case f.validation != nil: // 2
		o.fromValidation(f.validation)
	case f.bareValidation != nil:
		o.code = status.UnprocessableEntity
		o.validation = f.bareValidation
	case f.invalidValidation:
		o.code = status.InternalServerError

	case f.rule > 0: // 3
		r := &h.cfg.Rules[f.rule-1]
		o.code, o.detail, o.matchedRule, o.rule = r.code, r.detail, r.name, f.rule

	case f.statusCoder != nil: // 4
		o.setCode(f.statusCoder.StatusCode())

	case f.echo != nil: // 5
		h.fromEcho(&f, o)

	case f.deadline: // 6
		o.code = status.ServiceUnavailable
	case f.maxBytes:
		o.code = status.RequestEntityTooLarge
	case f.syntax != nil || f.unmarshalType != nil || f.badGzip:
		o.code = status.BadRequest
		o.detail = f.bodyDetail()
	case f.canceled && c != nil && c.Request().Context().Err() != nil:
		o.abort = true

	default: // 7
	}
}

// fromProblem maps a problem: its own members.
func (o *outcome) fromProblem(p *problem.Problem) {
	o.setCode(p.Status)
	if o.undocumented == 0 && p.Title != o.code.Title() {
		o.title = p.Title
	}
	o.detail, o.typeURI, o.instance, o.extensions = p.Detail, p.Type, p.Instance, p.Extensions
}

// fromValidation maps the Validator's error: a 422 whose entries its
// Validator phrases.
func (o *outcome) fromValidation(e *validationError) {
	o.code = status.UnprocessableEntity
	o.validation, o.validator, o.rootType = e.errs, e.v, e.root
}

// fromEcho maps Echo's HTTPError and BindingError.
func (h *handler) fromEcho(f *found, o *outcome) {
	he := f.echo
	if inner, ok := he.Internal.(*echo.HTTPError); ok {
		he = inner // as Echo's own error handler does
	}
	o.setCode(he.Code)
	switch {
	case o.code.Class() == status.ServerError:
		// The message can hold upstream addresses and internals: never shown.
	case f.binding != nil && f.binding.HTTPError == he:
		o.binding = f.binding
		o.detail = fmt.Sprintf("Parameter %q has an invalid value.", bounded(f.binding.Field))
	case he.Code == http.StatusBadRequest && he.Internal != nil:
		// A bind error: Echo's message leaks Go type and function names,
		// so the detail is built from the cause instead.
		if f.maxBytes {
			o.code = status.RequestEntityTooLarge
			return
		}
		o.detail = f.bodyDetail()
	default:
		if msg, ok := he.Message.(string); ok && msg != http.StatusText(he.Code) && msg != o.code.Title() {
			o.detail = msg
		}
	}
}

// found records what one walk over an error chain found: the first error
// of each kind, in the order errors.As would meet them. One walk with a
// type switch replaces a dozen errors.As calls and their allocations.
type found struct {
	rules []Rule // the service's rules, to match during the same walk
	rule  int    // 1 + the index of the first rule that matches, or 0

	panic             *panicError
	problem           *problem.Problem
	validation        *validationError
	bareValidation    validator.ValidationErrors
	invalidValidation bool
	statusCoder       StatusCoder
	echo              *echo.HTTPError
	binding           *echo.BindingError
	syntax            *json.SyntaxError
	unmarshalType     *json.UnmarshalTypeError
	xmlSyntax         *xml.SyntaxError
	unexpectedEOF     bool
	retryAfter        RetryAfterer
	maxBytes          bool
	deadline          bool
	canceled          bool
	badGzip           bool
}

// maxChain bounds the walk, so that a cyclic or enormous chain costs
// bounded work.
const maxChain = 64

func (f *found) scan(err error) {
	walk(err, func(e error) bool { f.visit(e); return false })
}

// walk calls visit for err and each error it wraps, depth first, in the
// order errors.Is and errors.As use, until visit returns true or maxChain
// errors were visited. It reports whether visit returned true. The bound
// keeps cyclic chains, and chains that share errors, from costing more
// than a fixed amount of work.
func walk(err error, visit func(error) bool) bool {
	var stack [4]error // most chains are short; a longer one grows it
	todo := append(stack[:0], err)
	for visited := 0; len(todo) > 0 && visited < maxChain; visited++ {
		e := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if e == nil {
			continue
		}
		if visit(e) {
			return true
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			todo = append(todo, u.Unwrap())
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			for i := len(errs) - 1; i >= 0; i-- {
				todo = append(todo, errs[i])
			}
		}
	}
	return false
}

// plainTypes are the types of errors.New's errors and of fmt.Errorf's
// with one %w, most of any chain. Their only methods are Error and Unwrap,
// so visit need not ask which of the table's interfaces they implement.
var plainTypes = [...]reflect.Type{
	reflect.TypeOf(errors.New("")),
	reflect.TypeOf(fmt.Errorf("%w", errors.New(""))),
}

func (f *found) visit(e error) {
	t := reflect.TypeOf(e)
	plain := t == plainTypes[0] || t == plainTypes[1]

	// One step of errors.Is, for the rules' sentinels and the table's.
	var matcher interface{ Is(error) bool }
	if !plain {
		matcher, _ = e.(interface{ Is(error) bool })
	}

	// Rules keep their order: the first rule that matches any error of
	// the chain wins, so only rules earlier than the best so far are tried
	// on later errors.
	for i := range f.rules {
		if f.rule != 0 && i+1 >= f.rule {
			break
		}
		r := &f.rules[i]
		var ok bool
		if r.target != nil {
			ok = r.comparable && e == r.target || matcher != nil && matcher.Is(r.target)
		} else {
			ok = r.matches(e)
		}
		if ok {
			f.rule = i + 1
			break
		}
	}
	if !plain {
		f.classify(e)
	}
	if f.decided() {
		return // the sentinels below could not change the outcome
	}
	is := func(target error) bool { return e == target || matcher != nil && matcher.Is(target) }
	switch {
	case is(context.DeadlineExceeded):
		f.deadline = true
	case is(context.Canceled):
		f.canceled = true
	case is(io.ErrUnexpectedEOF):
		f.unexpectedEOF = true
	case is(gzip.ErrHeader), is(gzip.ErrChecksum):
		f.badGzip = true
	}
}

// classify records what e is among the table's error types and
// interfaces.
func (f *found) classify(e error) {
	switch e := e.(type) {
	case *panicError:
		if f.panic == nil {
			f.panic = e
		}
	case *problem.Problem:
		if f.problem == nil && e != nil {
			f.problem = e
		}
	case *validationError:
		if f.validation == nil && f.bareValidation == nil {
			f.validation = e
		}
	case validator.ValidationErrors:
		if f.validation == nil && f.bareValidation == nil {
			f.bareValidation = e
		}
	case *validator.InvalidValidationError:
		f.invalidValidation = true
	case *echo.BindingError:
		if f.echo == nil && e != nil && e.HTTPError != nil {
			f.echo, f.binding = e.HTTPError, e
		}
	case *echo.HTTPError:
		if f.echo == nil && e != nil {
			f.echo = e
		}
	case *json.SyntaxError:
		if f.syntax == nil {
			f.syntax = e
		}
	case *json.UnmarshalTypeError:
		if f.unmarshalType == nil {
			f.unmarshalType = e
		}
	case *xml.SyntaxError:
		if f.xmlSyntax == nil {
			f.xmlSyntax = e
		}
	case *http.MaxBytesError:
		f.maxBytes = true
	case flate.CorruptInputError:
		f.badGzip = true
	}
	if f.statusCoder == nil {
		f.statusCoder, _ = e.(StatusCoder)
	}
	if f.retryAfter == nil {
		f.retryAfter, _ = e.(RetryAfterer)
	}
}

// decided reports whether a row above Echo's errors has matched, so that
// nothing found deeper in the chain, except a RetryAfterer, can change
// the outcome (see resolve).
func (f *found) decided() bool {
	return f.panic != nil || f.problem != nil || f.validation != nil || f.bareValidation != nil ||
		f.invalidValidation || f.rule != 0 || f.statusCoder != nil
}

// bodyDetail describes a malformed request body without quoting it or
// naming Go types.
func (f *found) bodyDetail() string {
	switch {
	case f.syntax != nil:
		return fmt.Sprintf("The request body is not valid JSON: syntax error at byte %d.", f.syntax.Offset)
	case f.unmarshalType != nil:
		want := jsonKind(f.unmarshalType.Type)
		if f.unmarshalType.Field == "" {
			return fmt.Sprintf("The request body must be %s.", want)
		}
		return fmt.Sprintf("The field %q must be %s.", bounded(f.unmarshalType.Field), want)
	case f.xmlSyntax != nil:
		return fmt.Sprintf("The request body is not valid XML: syntax error on line %d.", f.xmlSyntax.Line)
	case f.unexpectedEOF:
		return "The request body ended before the document was complete."
	case f.badGzip:
		return "The request body is not valid gzip."
	}
	return ""
}

// jsonKind names the JSON type that decodes into t.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "a different type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a different type"
}

// bounded cuts client-supplied names, which end up in details, to a sane
// length.
func bounded(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
