// Package api is the clinic's HTTP edge: routes, middleware and the one
// table that maps the domain's failures to documented status codes. It
// is the reference for how a Virtuheal service mounts apierrors.
package api

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	echomw "github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/virtuheal/apierrors/examples/clinic/patient"
	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/status"
)

// Options configure the server.
type Options struct {
	Rate        float64       // requests per second per client token; the burst is the same
	Timeout     time.Duration // request deadline
	ProblemBase string        // problem type URI base, such as "/problems/"
	Logger      *slog.Logger
	Store       *patient.Store
}

// errorRules is where failures become status codes: the domain's
// sentinels and the edge's own. Everything else the library maps itself.
var errorRules = []middleware.Rule{
	middleware.Is(patient.ErrNotFound, status.NotFound),
	middleware.Is(patient.ErrDuplicateEmail, status.Conflict).WithDetail("A patient with this email already exists."),
	middleware.Is(errUnauthenticated, status.Unauthorized).WithDetail("Send a valid token in an Authorization: Bearer header."),
	middleware.Is(errForbidden, status.Forbidden).WithDetail("This token may read but not write."),
}

// New returns the clinic's Echo server.
func New(opts Options) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Validator = middleware.NewValidator()

	cfg := middleware.Config{
		TypeBase: opts.ProblemBase,
		Rules:    errorRules,
		Logger:   opts.Logger,
	}

	// Outermost: the access log, so it records the final status of every
	// request, errors included, and Echo's Recover as a last safety net.
	e.Pre(dropHostileRequestIDs)
	e.Use(accessLog(opts.Logger))
	e.Use(echomw.Recover())
	// The library: errors returned below it, errors sent with c.Error
	// (RateLimiter does), and panics all become problems.
	middleware.Mount(e, cfg)
	e.Use(echomw.RequestID())
	e.Use(echomw.BodyLimit("64KiB")) // "64K" would be 64,000 bytes
	public := isPublic(docsPath(opts.ProblemBase))
	e.Use(echomw.RateLimiterWithConfig(echomw.RateLimiterConfig{
		Skipper: public,
		Store: echomw.NewRateLimiterMemoryStoreWithConfig(echomw.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(opts.Rate), Burst: int(opts.Rate), ExpiresIn: 3 * time.Minute,
		}),
		IdentifierExtractor: clientToken,
	}))
	e.Use(echomw.ContextTimeout(opts.Timeout))

	h := &handlers{store: opts.Store, timeout: opts.Timeout}
	read := authenticate()
	write := []echo.MiddlewareFunc{read, staffOnly}

	e.GET("/healthz", h.health)
	// Auth is attached per route, not with Group.Use: a group's middleware
	// turns a wrong method into 404 instead of 405 with Allow.
	e.GET("/patients", h.listPatients, read)
	e.POST("/patients", h.createPatient, write...)
	e.GET("/patients/:id", h.getPatient, read)
	e.DELETE("/patients/:id", h.deletePatient, write...)
	e.GET("/reports/slow", h.slowReport)
	e.GET("/debug/panic", h.debugPanic)
	e.GET("/debug/error", h.debugError)
	e.GET(docsPath(opts.ProblemBase)+"*", middleware.ProblemTypesHandler(cfg))
	e.GET("/openapi.json", serveOpenAPI(opts.ProblemBase))
	return e
}

// isPublic tells the routes that are neither authenticated nor rate
// limited: health checks and documentation.
func isPublic(docs string) echomw.Skipper {
	return func(c echo.Context) bool {
		p := c.Request().URL.Path
		return p == "/healthz" || p == "/openapi.json" || strings.HasPrefix(p, docs)
	}
}

// docsPath is the path the problem type pages are served under: the path
// of the type URI base, which may be absolute.
func docsPath(problemBase string) string {
	p := problemBase
	if u, err := url.Parse(problemBase); err == nil {
		p = u.Path
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// clientToken keys the rate limit by bearer token, or by address for
// requests without one.
func clientToken(c echo.Context) (string, error) {
	if token, ok := bearerToken(c.Request()); ok {
		return "token:" + token, nil
	}
	return "ip:" + c.RealIP(), nil
}

// dropHostileRequestIDs removes a client's X-Request-ID that is not fit
// to be echoed, before Echo's RequestID middleware reflects it: a fresh
// id is generated instead.
func dropHostileRequestIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" && !middleware.ValidRequestID(id) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

// accessLog writes one slog record per request.
func accessLog(logger *slog.Logger) echo.MiddlewareFunc {
	return echomw.RequestLoggerWithConfig(echomw.RequestLoggerConfig{
		LogMethod: true, LogURIPath: true, LogStatus: true, LogLatency: true, LogRequestID: true,
		LogValuesFunc: func(c echo.Context, v echomw.RequestLoggerValues) error {
			logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("method", v.Method),
				slog.String("path", v.URIPath),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency),
				slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
			)
			return nil
		},
	})
}

func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	return token, ok && strings.EqualFold(scheme, "Bearer") && token != ""
}
