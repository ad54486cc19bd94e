package middleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"testing"
	"time"

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
