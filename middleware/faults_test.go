package middleware_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// panickyError's Error method itself panics.
type panickyError struct{}

func (panickyError) Error() string { panic("Error() exploded: SECRET") }

// selfWrapping unwraps to itself: a cycle.
type selfWrapping struct{}

func (e *selfWrapping) Error() string { return "cycle" }
func (e *selfWrapping) Unwrap() error { return e }

// panickyCoder's StatusCode panics.
type panickyCoder struct{}

func (panickyCoder) Error() string   { return "coder" }
func (panickyCoder) StatusCode() int { panic("StatusCode exploded") }

type panicStruct struct{ Secret string }

func TestFaultyErrorsStillGetAProblem(t *testing.T) {
	type cyclicMap map[string]any
	cyc := cyclicMap{}
	cyc["self"] = cyc
	tests := []struct {
		name   string
		fail   func() error
		status int
	}{
		{"panic with a string", func() error { panic("SECRET string") }, 500},
		{"panic with an int", func() error { panic(42) }, 500},
		{"panic with a struct", func() error { panic(panicStruct{"SECRET"}) }, 500},
		{"panic with nil", func() error { panic(nil) }, 500},
		{"panic with an error whose Error panics", func() error { panic(panickyError{}) }, 500},
		{"panic with a 403 is still a 500", func() error { panic(echo.ErrForbidden) }, 500},
		{"error whose Error panics", func() error { return fmt.Errorf("wrap: %w", panickyError{}) }, 500},
		{"error whose StatusCode panics", func() error { return panickyCoder{} }, 500},
		{"cyclic error chain", func() error { return &selfWrapping{} }, 500},
		{"extension is a channel", func() error { return problem.New(status.Conflict).With("ch", make(chan int)) }, 500},
		{"extension is NaN", func() error { return problem.New(status.Conflict).With("n", math.NaN()) }, 500},
		{"extension is a cycle", func() error { return problem.New(status.Conflict).With("c", cyc) }, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, logs := newEcho(middleware.Config{})
			e.GET("/x", func(echo.Context) error { return tt.fail() })
			for _, accept := range []string{"application/json", "application/xml"} {
				r := httptest.NewRequest("GET", "/x", nil)
				r.Header.Set("Accept", accept)
				w, p := serve(t, e, r)
				if w.Code != tt.status {
					t.Errorf("%s: status %d, want %d", accept, w.Code, tt.status)
				}
				if p.Detail != status.Code(tt.status).Description() || strings.Contains(w.Body.String(), "SECRET") {
					t.Errorf("%s: body %s", accept, w.Body)
				}
			}
			if !strings.Contains(logs.String(), `"level":"ERROR"`) {
				t.Errorf("not logged as an error: %s", logs)
			}
		})
	}
}

// TestConcurrentPanics panics in many handlers at once.
func TestConcurrentPanics(t *testing.T) {
	e, logs := newEcho(middleware.Config{})
	e.GET("/p/:n", func(c echo.Context) error { panic("panic " + c.Param("n")) })
	srv := httptest.NewServer(e)
	defer srv.Close()
	var wg sync.WaitGroup
	const n = 64
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(fmt.Sprintf("%s/p/%d", srv.URL, i))
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			if p, err := problem.Parse(resp); err != nil || p.Status != 500 {
				t.Errorf("%v %+v", err, p)
			}
		}()
	}
	wg.Wait()
	if got := strings.Count(logs.String(), `"msg":"panic recovered"`); got != n {
		t.Errorf("%d panic records, want %d", got, n)
	}
}

// failingHandler is a slog handler that fails in every way it can.
type failingHandler struct{ panics bool }

func (h failingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h failingHandler) Handle(context.Context, slog.Record) error {
	if h.panics {
		panic("logger exploded")
	}
	return errors.New("disk full")
}
func (h failingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h failingHandler) WithGroup(string) slog.Handler      { return h }

func TestFailingLoggerAndHook(t *testing.T) {
	for name, cfg := range map[string]middleware.Config{
		"logger returns errors": {Logger: slog.New(failingHandler{})},
		"logger panics":         {Logger: slog.New(failingHandler{panics: true})},
		"hook panics": {OnError: func(echo.Context, *problem.Problem, error) {
			panic("hook exploded")
		}},
	} {
		t.Run(name, func(t *testing.T) {
			e, _ := newEcho(cfg)
			e.GET("/conflict", func(echo.Context) error { return problem.New(status.Conflict) })
			e.GET("/panic", func(echo.Context) error { panic("boom") })
			for path, want := range map[string]int{"/conflict": 409, "/panic": 500, "/nowhere": 404} {
				w, p := serve(t, e, httptest.NewRequest("GET", path, nil))
				if w.Code != want || p.Title != status.Code(want).Title() {
					t.Errorf("%s: %d %s", path, w.Code, w.Body)
				}
			}
		})
	}
}

// TestOnError hands the hook the final problem and the original error.
func TestOnError(t *testing.T) {
	var got struct {
		p   *problem.Problem
		err error
	}
	errNoRows := errors.New("no rows")
	e, _ := newEcho(middleware.Config{
		TypeBase: "/problems/",
		Rules:    []middleware.Rule{middleware.Is(errNoRows, status.NotFound)},
		OnError:  func(c echo.Context, p *problem.Problem, err error) { got.p, got.err = p, err },
	})
	e.GET("/x", func(echo.Context) error { return fmt.Errorf("select: %w", errNoRows) })
	serve(t, e, httptest.NewRequest("GET", "/x", nil))
	if got.p == nil || got.p.Status != 404 || got.p.Type != "/problems/not-found" || got.p.Instance != "/x" {
		t.Errorf("problem = %+v", got.p)
	}
	if !errors.Is(got.err, errNoRows) {
		t.Errorf("err = %v", got.err)
	}
}

// TestOnErrorGetsItsOwnEntries checks that the hook sees a validation
// problem's entries as []problem.FieldError, and that a hook which
// changes them, though told not to, cannot change the cached list the
// next responses are made from.
func TestOnErrorGetsItsOwnEntries(t *testing.T) {
	type patient struct {
		Name string `json:"name" validate:"required"`
	}
	var seen [][]problem.FieldError
	e, _ := newEcho(middleware.Config{OnError: func(c echo.Context, p *problem.Problem, err error) {
		list, ok := p.Extensions[problem.ErrorsKey].([]problem.FieldError)
		if !ok {
			t.Errorf("errors extension is a %T", p.Extensions[problem.ErrorsKey])
			return
		}
		seen = append(seen, slices.Clone(list))
		list[0].Detail = "changed by the hook"
	}})
	e.POST("/patients", bindAndValidate[patient])
	want := []problem.FieldError{{Detail: "name is a required field", Pointer: "#/name", Rule: "required"}}
	for i := range 3 {
		_, p := serve(t, e, jsonRequest("POST", "/patients", `{}`))
		if got := p.Errors(); !slices.Equal(got, want) {
			t.Fatalf("response %d: errors = %+v, want %+v", i+1, got, want)
		}
	}
	if len(seen) != 3 || !slices.Equal(seen[2], want) {
		t.Errorf("the hook saw %+v", seen)
	}
}

// TestFallbackKeepsServing sends a problem that cannot be encoded, with a
// request id so that the middleware adds extensions of its own, then
// sends more: the fallback must not poison what the next ones reuse.
func TestFallbackKeepsServing(t *testing.T) {
	e, _ := newEcho(middleware.Config{})
	e.GET("/bad", func(echo.Context) error { return problem.New(status.Conflict).With("ch", make(chan int)) })
	e.GET("/good", func(echo.Context) error { return problem.New(status.Conflict) })
	for i := range 20 {
		path := []string{"/bad", "/good"}[i%2]
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("X-Request-ID", fmt.Sprintf("req-%d", i))
		w, p := serve(t, e, r)
		if want := map[string]int{"/bad": 500, "/good": 409}[path]; w.Code != want {
			t.Fatalf("%s: %d", path, w.Code)
		}
		if path == "/good" && p.Extensions["request_id"] != fmt.Sprintf("req-%d", i) {
			t.Errorf("request_id = %v", p.Extensions["request_id"])
		}
	}
}
