package middleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                            "0",
		-time.Hour:                   "0",
		time.Nanosecond:              "1",
		time.Second:                  "1",
		1500 * time.Millisecond:      "2",
		90 * time.Second:             "90",
		time.Duration(math.MaxInt64): "9223372037",
		time.Duration(math.MinInt64): "0",
	} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %q, want %q", d, got, want)
		}
	}
}

type conflictCoder struct{ error }

func (conflictCoder) StatusCode() int { return http.StatusConflict }

// TestResolveOrderWithSentinels checks that the standard library's
// sentinels, which the walk stops looking for once a higher row of the
// table has matched, never win over that row, wherever they sit in the
// chain, and still count where no higher row matched.
func TestResolveOrderWithSentinels(t *testing.T) {
	errLocked := errors.New("locked")
	h := newHandler(Config{Rules: []Rule{Is(errLocked, status.Locked)}})
	for _, tc := range []struct {
		name string
		err  error
		code status.Code
	}{
		{"rule before deadline", fmt.Errorf("%w: %w", errLocked, context.DeadlineExceeded), status.Locked},
		{"deadline before rule", fmt.Errorf("%w: %w", context.DeadlineExceeded, errLocked), status.Locked},
		{"coder over deadline", conflictCoder{context.DeadlineExceeded}, status.Conflict},
		{"problem over deadline", fmt.Errorf("%w: %w", context.DeadlineExceeded, problem.New(status.Gone)), status.Gone},
		{"deadline alone", fmt.Errorf("query: %w", context.DeadlineExceeded), status.ServiceUnavailable},
		{"bind error with EOF", echo.ErrBadRequest.WithInternal(io.ErrUnexpectedEOF), status.BadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o outcome
			h.resolve(nil, tc.err, &o)
			if o.code != tc.code {
				t.Errorf("code %d, want %d", o.code, tc.code)
			}
		})
	}
	var o outcome
	h.resolve(nil, echo.ErrBadRequest.WithInternal(io.ErrUnexpectedEOF), &o)
	if o.detail != "The request body ended before the document was complete." {
		t.Errorf("bind error detail %q", o.detail)
	}
}

// TestPlainTypesImplementNothing pins what visit assumes of plainTypes:
// they are the types of errors.New and fmt.Errorf with one %w, and
// implement none of the interfaces visit then skips asking about.
func TestPlainTypesImplementNothing(t *testing.T) {
	want := []error{errors.New("x"), fmt.Errorf("x: %w", io.EOF)}
	for i, e := range want {
		if reflect.TypeOf(e) != plainTypes[i] {
			t.Errorf("plainTypes[%d] is %v, not the type of %T", i, plainTypes[i], e)
		}
	}
	for _, typ := range plainTypes {
		for _, iface := range []reflect.Type{
			reflect.TypeFor[interface{ Is(error) bool }](),
			reflect.TypeFor[StatusCoder](),
			reflect.TypeFor[RetryAfterer](),
		} {
			if typ.Implements(iface) {
				t.Errorf("%v implements %v: visit must not skip asking", typ, iface)
			}
		}
	}
	// And the fast path changes no outcome: a rule's target and the
	// table's sentinels are still found through plain wrappers.
	h := newHandler(Config{Rules: []Rule{Is(io.ErrClosedPipe, status.Gone)}})
	for err, code := range map[error]status.Code{
		fmt.Errorf("a: %w", fmt.Errorf("b: %w", io.ErrClosedPipe)): status.Gone,
		fmt.Errorf("a: %w", io.ErrUnexpectedEOF):                   status.InternalServerError,
		fmt.Errorf("a: %w", errors.New("b")):                       status.InternalServerError,
	} {
		var o outcome
		h.resolve(nil, err, &o)
		if o.code != code {
			t.Errorf("%v: code %d, want %d", err, o.code, code)
		}
	}
	var o outcome
	h.resolve(nil, echo.ErrBadRequest.WithInternal(fmt.Errorf("read: %w", io.ErrUnexpectedEOF)), &o)
	if o.detail != "The request body ended before the document was complete." {
		t.Errorf("a sentinel behind a plain wrapper was missed: detail %q", o.detail)
	}
}

// TestOwnErrorsOutcomeWithoutTheWalk checks that the library's own
// errors, which resolve maps without walking their chain, get the outcome
// the walk gives the same error behind a wrapper, whatever the rules.
func TestOwnErrorsOutcomeWithoutTheWalk(t *testing.T) {
	type form struct {
		Name string `json:"name" validate:"required"`
	}
	validation := NewValidator().Validate(&form{})
	h := newHandler(Config{Rules: []Rule{
		As[validator.ValidationErrors](status.BadRequest),
		As[*problem.Problem](status.Gone),
		As[error](status.Conflict),
		Is(validation, status.Gone),
	}})
	for name, err := range map[string]error{
		"validation":        validation,
		"problem":           problem.New(status.Conflict).WithDetail("taken"),
		"problem, members":  problem.New(status.TooManyRequests).WithType("/t").WithInstance("/i").With("k", 1),
		"own title":         &problem.Problem{Title: "Custom", Status: 404},
		"undocumented":      &problem.Problem{Title: "Teapot", Status: 418},
		"not an error code": &problem.Problem{Status: 302},
		"no status":         &problem.Problem{},
	} {
		var direct, walked outcome
		h.resolve(nil, err, &direct)
		h.resolve(nil, fmt.Errorf("handler: %w", err), &walked)
		if direct.code == 0 || !reflect.DeepEqual(direct, walked) {
			t.Errorf("%s:\ndirect %+v\nwalked %+v", name, direct, walked)
		}
	}
}
