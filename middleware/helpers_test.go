package middleware_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/problem"
)

// logBuffer collects the records of a JSON slog logger, safely for
// concurrent handlers.
type logBuffer = problemtest.Logs

// newEcho returns an Echo with the library mounted and a logger that
// records into the returned buffer.
func newEcho(cfg middleware.Config) (*echo.Echo, *logBuffer) {
	logs := &logBuffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e := echo.New()
	middleware.Mount(e, cfg)
	e.Validator = middleware.NewValidator()
	return e, logs
}

// serve runs one request and parses the problem in the response, failing
// the test when the body is not a problem whose status matches the HTTP
// status.
func serve(t *testing.T, e *echo.Echo, r *http.Request) (*httptest.ResponseRecorder, *problem.Problem) {
	t.Helper()
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	if r.Method == http.MethodHead {
		return w, nil
	}
	p, err := problem.Parse(w.Result())
	if err != nil {
		t.Fatalf("%s %s: %d %q: %v", r.Method, r.URL, w.Code, w.Body, err)
	}
	if p.Status != w.Code {
		t.Fatalf("body status %d, HTTP status %d", p.Status, w.Code)
	}
	return w, p
}

func jsonRequest(method, target, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// bindAndValidate is a handler that binds the request into a T and
// validates it, as a service's handlers do.
func bindAndValidate[T any](c echo.Context) error {
	var v T
	if err := c.Bind(&v); err != nil {
		return err
	}
	return c.Validate(&v)
}
