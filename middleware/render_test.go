package middleware_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// TestBodiesMatchTheProblemEncoder proves the middleware's precomputed
// bodies byte-identical to what the problem package encodes for the same
// members, for every documented error code in every language, with and
// without extensions.
func TestBodiesMatchTheProblemEncoder(t *testing.T) {
	for _, base := range []string{"", "/problems/", "https://api.virtuheal.com/problems/<&>/"} {
		e, _ := newEcho(middleware.Config{TypeBase: base})
		e.GET("/fail/:code", func(c echo.Context) error {
			var code int
			fmt.Sscan(c.Param("code"), &code)
			if c.QueryParam("detail") != "" {
				return echo.NewHTTPError(code, c.QueryParam("detail"))
			}
			return problem.New(status.Code(code)).WithDetail("")
		})
		for _, c := range status.All() {
			if !c.IsError() {
				continue
			}
			for _, lang := range []string{"en", "fr", "de", "es", "pt-BR", "ja"} {
				for _, query := range []string{"", "?detail=%3Cb%3E%20%C3%A9"} {
					r := httptest.NewRequest("GET", fmt.Sprintf("/fail/%d%s", c, query), nil)
					r.Header.Set("Accept-Language", lang)
					if c == status.NotFound {
						r.Header.Set("X-Request-ID", "req-1")
						r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
					}
					w := httptest.NewRecorder()
					e.ServeHTTP(w, r)
					if _, again := reencode(t, w.Body.Bytes()); !bytes.Equal(w.Body.Bytes(), again) {
						t.Fatalf("%v %s %q:\nmiddleware %s\nproblem    %s", c, lang, query, w.Body, again)
					}
				}
			}
		}
	}
}

// reencode decodes a problem body and encodes it again with the problem
// package's encoder.
func reencode(t *testing.T, body []byte) (problem.Problem, []byte) {
	t.Helper()
	var p problem.Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	again, err := p.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	return p, again
}

// TestProblemMembersMergeWithTheMiddlewares checks a problem's own
// extension members beside those the middleware adds: all are sent in
// name order, and the problem's own win a name both give, whether the
// body comes from a template or is encoded whole.
func TestProblemMembersMergeWithTheMiddlewares(t *testing.T) {
	own := problem.New(status.PaymentRequired).
		With("zeta", true).
		With("balance", 30).
		With("request_id", "the-problem's")
	e, _ := newEcho(middleware.Config{TypeBase: "/problems/"})
	e.GET("/pay", func(c echo.Context) error {
		if c.QueryParam("typed") != "" {
			return own.WithType("/problems/out-of-credit") // no template serves it
		}
		return own
	})
	for _, query := range []string{"", "?typed=1"} {
		r := httptest.NewRequest("GET", "/pay"+query, nil)
		r.Header.Set("X-Request-ID", "req-1")
		r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		w := httptest.NewRecorder()
		e.ServeHTTP(w, r)
		p, again := reencode(t, w.Body.Bytes())
		if !bytes.Equal(w.Body.Bytes(), again) {
			t.Errorf("%q: members out of order:\nmiddleware %s\nproblem    %s", query, w.Body, again)
		}
		want := map[string]any{
			"zeta":       true,
			"balance":    json.Number("30"),
			"request_id": "the-problem's",
			"trace_id":   "4bf92f3577b34da6a3ce929d0e0e4736",
		}
		if len(p.Extensions) != len(want) {
			t.Errorf("%q: extensions %v, want %v", query, p.Extensions, want)
		}
		for k, v := range want {
			if p.Extensions[k] != v {
				t.Errorf("%q: %s = %#v, want %#v", query, k, p.Extensions[k], v)
			}
		}
	}
}

func TestConfigPanicsOnInvalidRules(t *testing.T) {
	for name, rule := range map[string]middleware.Rule{
		"undocumented code": middleware.Is(errors.New("x"), status.Code(418)),
		"success code":      middleware.Is(errors.New("x"), status.OK),
		"zero rule":         {},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			middleware.ProblemDetailsWithConfig(middleware.Config{Rules: []middleware.Rule{rule}})
		})
	}
	t.Run("Is with a nil target", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("no panic")
			}
		}()
		middleware.Is(nil, status.NotFound)
	})
}

func TestDefaults(t *testing.T) {
	if middleware.DefaultConfig.Challenge == "" || middleware.DefaultConfig.RetryAfter <= 0 || middleware.DefaultConfig.Skipper == nil {
		t.Errorf("DefaultConfig lacks defaults: %+v", middleware.DefaultConfig)
	}
	e := echo.New()
	e.Use(middleware.ProblemDetails())
	e.HTTPErrorHandler = middleware.HTTPErrorHandler(middleware.DefaultConfig)
	e.GET("/x", func(echo.Context) error { return echo.ErrUnauthorized })
	e.GET("/busy", func(echo.Context) error { return echo.ErrServiceUnavailable })
	w, p := serve(t, e, httptest.NewRequest("GET", "/x", nil))
	if p.Type != "about:blank" || w.Header().Get("WWW-Authenticate") != "Bearer" {
		t.Errorf("type %q, challenge %q", p.Type, w.Header().Get("WWW-Authenticate"))
	}
	w, _ = serve(t, e, httptest.NewRequest("GET", "/busy", nil))
	if w.Header().Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", w.Header().Get("Retry-After"))
	}
}

func TestProblemTypesHandler(t *testing.T) {
	for _, base := range []string{"/problems/", "https://api.virtuheal.com/problems/"} {
		cfg := middleware.Config{TypeBase: base}
		e, _ := newEcho(cfg)
		e.GET("/problems/*", middleware.ProblemTypesHandler(cfg))

		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest("GET", "/problems/", nil))
		if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("index: %d %s", w.Code, w.Header())
		}
		for _, c := range status.All() {
			if want := `href="` + base + c.Slug() + `"`; c.IsError() != strings.Contains(w.Body.String(), want) {
				t.Errorf("index and %v disagree about %s", c, want)
			}
		}

		for _, c := range status.All() {
			if !c.IsError() {
				continue
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, httptest.NewRequest("GET", "/problems/"+c.Slug()+"?x=<script>", nil))
			body := w.Body.String()
			if w.Code != 200 {
				t.Fatalf("%v: %d", c, w.Code)
			}
			for _, want := range []string{c.Title(), c.Name(), c.Class().String(), fmt.Sprintf("&#34;status&#34;: %d", c)} {
				if !strings.Contains(body, want) {
					t.Errorf("%v page lacks %q", c, want)
				}
			}
			if !strings.Contains(body, htmlEscape(c.Description())) {
				t.Errorf("%v page lacks its description", c)
			}
			if strings.Contains(body, "<script>") {
				t.Errorf("%v page reflects the query", c)
			}
			csp := w.Header().Get("Content-Security-Policy")
			_, style, _ := strings.Cut(body, "<style>")
			style, _, _ = strings.Cut(style, "</style>")
			sum := sha256.Sum256([]byte(style))
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
				t.Errorf("the CSP %q does not allow the page's own style", csp)
			}
		}

		_, p := serve(t, e, httptest.NewRequest("GET", "/problems/im-a-teapot", nil))
		if p.Status != 404 {
			t.Errorf("unknown slug: %+v", p)
		}
		_, p = serve(t, e, httptest.NewRequest("GET", "/problems/ok", nil))
		if p.Status != 404 {
			t.Errorf("a success code has a problem page: %+v", p)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic without a TypeBase")
		}
	}()
	middleware.ProblemTypesHandler(middleware.Config{})
}

func htmlEscape(s string) string {
	return strings.NewReplacer("'", "&#39;", `"`, "&#34;", "<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(s)
}

// TestHeadersMatchSetHeaders proves the headers of the common case, which
// the middleware sets itself, the same as problem.SetHeaders and
// problem.AddVary give, with and without a Vary set before the error.
func TestHeadersMatchSetHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, accept, vary string
		mediaType          string
	}{
		{"json", "", "", problem.MediaType},
		{"json after Vary", "application/json", "Origin", problem.MediaType},
		{"xml", "application/xml", "", problem.MediaTypeXML},
		{"xml after Vary", "application/xml", "Origin", problem.MediaTypeXML},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newEcho(middleware.Config{})
			e.GET("/conflict", func(c echo.Context) error {
				if tc.vary != "" {
					c.Response().Header().Set("Vary", tc.vary)
				}
				return problem.New(status.Conflict)
			})
			r := httptest.NewRequest("GET", "/conflict", nil)
			r.Header.Set("Accept", tc.accept)
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)

			want := http.Header{}
			if tc.vary != "" {
				want.Set("Vary", tc.vary)
			}
			problem.SetHeaders(want, tc.mediaType)
			problem.AddVary(want, "Accept-Language")
			for _, key := range []string{"Content-Type", "Vary", "Cache-Control", "X-Content-Type-Options"} {
				got := strings.Join(w.Header().Values(key), ", ")
				if w := strings.Join(want.Values(key), ", "); got != w {
					t.Errorf("%s = %q, want %q", key, got, w)
				}
			}
		})
	}
}
