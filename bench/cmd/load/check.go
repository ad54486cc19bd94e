package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// ---------------------------------------------------------------------
// Responses.

// parsed is a problem response, read back.
type parsed struct {
	*problem.Problem
	requestID string // the body's request_id member
}

// problemBase is the clinic's problem type URI base.
const problemBase = "/problems/"

// An outcome is how a result counts.
type outcome int

const (
	answered     outcome = iota // a response the route expects, and right
	disconnected                // the disconnect route's client gave up, as it should
	starvedOnly                 // a right response that only a starved process explains
	transportErr                // no response, and not on purpose
	wrong                       // a response that is wrong
)

// checkResult checks one result of route r.
func checkResult(r *route, res *vegeta.Result) (outcome, error) {
	if res.Code == 0 {
		if r.disconnect && strings.Contains(res.Error, errDisconnected.Error()) {
			return disconnected, nil
		}
		return transportErr, fmt.Errorf("transport error: %s", res.Error)
	}
	code := int(res.Code)
	out := answered
	switch {
	case slices.Contains(r.want, code):
	case slices.Contains(r.starved, code):
		out = starvedOnly
	case r.disconnect:
		return wrong, fmt.Errorf("status %d: the client should have given up first", code)
	default:
		return wrong, fmt.Errorf("status %d, want one of %v; body %.300q", code, r.want, res.Body)
	}
	var p *parsed
	if code >= 300 {
		var err error
		if p, err = checkProblem(r, res); err != nil {
			return wrong, fmt.Errorf("status %d: %w", code, err)
		}
	} else {
		ct, _, _ := mime.ParseMediaType(res.Headers.Get("Content-Type"))
		if ct != "application/json" || !json.Valid(res.Body) {
			return wrong, fmt.Errorf("status %d: Content-Type %q, body %.300q: want JSON", code, res.Headers.Get("Content-Type"), res.Body)
		}
	}
	check := r.check
	if out == starvedOnly {
		check = checkRetryAfter // the route's own check is for its designed outcome
	}
	if check != nil {
		if err := check(res, p); err != nil {
			return wrong, fmt.Errorf("status %d: %w", code, err)
		}
	}
	return out, nil
}

// checkProblem checks that a response is a problem as a client reads it
// with problem.Parse, that its body passes the JSON Schema of RFC 9457
// Appendix A, and that it agrees with the response it came in.
func checkProblem(r *route, res *vegeta.Result) (*parsed, error) {
	code := int(res.Code)
	ct := res.Headers.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != problem.MediaType {
		return nil, fmt.Errorf("Content-Type %q, want %s", ct, problem.MediaType)
	}
	p, err := problem.Parse(&http.Response{
		StatusCode: code,
		Header:     res.Headers,
		Body:       io.NopCloser(bytes.NewReader(res.Body)),
	})
	if err != nil {
		return nil, fmt.Errorf("problem.Parse: %w", err)
	}
	// Parse takes an absent status from the response: look at the body's
	// own member too.
	var members struct {
		Status    *int   `json:"status"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal(res.Body, &members); err != nil {
		return nil, fmt.Errorf("body %.300q: %w", res.Body, err)
	}
	if members.Status == nil || *members.Status != code || p.Status != code {
		return nil, fmt.Errorf("body's status is not the HTTP status: %.300q", res.Body)
	}
	if err := problemtest.ValidateSchema(res.Body); err != nil {
		return nil, fmt.Errorf("RFC 9457 Appendix A schema: %v; body %.300q", err, res.Body)
	}
	sc := status.Code(code)
	if want := problemBase + sc.Slug(); p.Type != want || p.Title != sc.Title() {
		return nil, fmt.Errorf("type %q and title %q, want %q and %q", p.Type, p.Title, want, sc.Title())
	}
	// The id the load sent for this route, echoed in the header and the
	// body: the response belongs to the request.
	id := res.Headers.Get("X-Request-Id")
	if !strings.HasPrefix(id, "load-"+r.name+"-") || members.RequestID != id {
		return nil, fmt.Errorf("X-Request-Id %q and request_id %q, want the load's id for route %s", id, members.RequestID, r.name)
	}
	return &parsed{Problem: p, requestID: members.RequestID}, nil
}

func wantPointers(pointers ...string) func(*vegeta.Result, *parsed) error {
	return func(_ *vegeta.Result, p *parsed) error {
		var got []string
		for _, fe := range p.Errors() {
			got = append(got, fe.Pointer)
		}
		for _, want := range pointers {
			if !slices.Contains(got, want) {
				return fmt.Errorf("errors point at %q, want %q among them", got, want)
			}
		}
		return nil
	}
}

func wantHeader(name, value string) func(*vegeta.Result, *parsed) error {
	return func(res *vegeta.Result, _ *parsed) error {
		if got := res.Headers.Get(name); got != value {
			return fmt.Errorf("%s %q, want %q", name, got, value)
		}
		return nil
	}
}

// checkOverLimit: a 429 says when to retry, a 401 how to authenticate.
func checkOverLimit(res *vegeta.Result, p *parsed) error {
	if res.Code == http.StatusUnauthorized && !strings.HasPrefix(res.Headers.Get("WWW-Authenticate"), "Bearer") {
		return fmt.Errorf("WWW-Authenticate %q, want Bearer", res.Headers.Get("WWW-Authenticate"))
	}
	return checkRetryAfter(res, p)
}

// checkRetryAfter: a 429 or 503 says when to retry, in delay-seconds.
func checkRetryAfter(res *vegeta.Result, _ *parsed) error {
	if res.Code != http.StatusTooManyRequests && res.Code != http.StatusServiceUnavailable {
		return nil
	}
	if s, err := strconv.Atoi(res.Headers.Get("Retry-After")); err != nil || s < 0 {
		return fmt.Errorf("Retry-After %q, want delay-seconds", res.Headers.Get("Retry-After"))
	}
	return nil
}

// checkNoSecret: the panic's message must not reach the client.
func checkNoSecret(res *vegeta.Result, _ *parsed) error {
	if bytes.Contains(res.Body, []byte(panicSecret)) {
		return fmt.Errorf("the panic's message reached the client: %.300q", res.Body)
	}
	return nil
}

// ---------------------------------------------------------------------
// The clinic's logs.

// routeLogs counts the records of one route's requests.
type routeLogs struct {
	access     int // the clinic's access log: one "request" record per request
	errors     int // records at ERROR or above
	errors503  int // of which, a 503
	clientGone int // the library's "client closed the request"
	other      int
	firstError string
}

// logCheck is an slog.Handler that tallies the clinic's records by the
// route named in their request_id, as they are written, and passes them
// on (to io.Discard, or the -log file). Nothing is kept but counts.
type logCheck struct {
	state *logState
	attrs []slog.Attr // from WithAttrs; groups are not tracked
	next  slog.Handler
}

type logState struct {
	mu         sync.Mutex
	byRoute    map[string]*routeLogs
	stray      int // records that belong to no request of the load
	firstStray string
}

func newLogCheck(next slog.Handler) *logCheck {
	return &logCheck{state: &logState{byRoute: map[string]*routeLogs{}}, next: next}
}

func (h *logCheck) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *logCheck) Handle(ctx context.Context, rec slog.Record) error {
	id, code := "", int64(0)
	find := func(a slog.Attr) bool {
		switch a.Key {
		case "request_id":
			id = a.Value.String()
		case "status":
			if a.Value.Kind() == slog.KindInt64 {
				code = a.Value.Int64()
			}
		}
		return true
	}
	for _, a := range h.attrs {
		find(a)
	}
	rec.Attrs(find)
	h.state.add(id, code, rec)
	if h.next != nil {
		return h.next.Handle(ctx, rec)
	}
	return nil
}

func (h *logCheck) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(slices.Clip(h.attrs), attrs...)
	if h.next != nil {
		c.next = h.next.WithAttrs(attrs)
	}
	return &c
}

func (h *logCheck) WithGroup(name string) slog.Handler {
	c := *h
	if h.next != nil {
		c.next = h.next.WithGroup(name)
	}
	return &c
}

// routeOfID returns the route a request id of the load names:
// "load-<route>-<n>".
func routeOfID(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, "load-")
	if !ok {
		return "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return "", false
	}
	return rest[:i], true
}

func (s *logState) add(id string, code int64, rec slog.Record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, ok := routeOfID(id)
	if !ok {
		s.stray++
		if s.firstStray == "" {
			s.firstStray = recordText(rec)
		}
		return
	}
	rl := s.byRoute[name]
	if rl == nil {
		rl = &routeLogs{}
		s.byRoute[name] = rl
	}
	switch {
	case rec.Level >= slog.LevelError:
		rl.errors++
		if code == http.StatusServiceUnavailable {
			rl.errors503++
		}
		if rl.firstError == "" {
			rl.firstError = recordText(rec)
		}
	case rec.Message == "request":
		rl.access++
	case rec.Message == "client closed the request":
		rl.clientGone++
	default:
		rl.other++
	}
}

func recordText(rec slog.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q", rec.Level, rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "stack" {
			return true
		}
		v := a.Value.String()
		if len(v) > 200 {
			v = v[:200] + "…"
		}
		fmt.Fprintf(&b, " %s=%q", a.Key, v)
		return true
	})
	return b.String()
}

// routeStats is what the load saw of one route.
type routeStats struct {
	sent      int
	statuses  map[int]int // 0: no response
	responses int         // with a status
	starved   int         // right responses only a starved process explains
	metrics   vegeta.Metrics
}

// checkLogs compares the clinic's records with what the load saw. It
// must be called after the server has shut down, when every handler has
// returned. starved lists what only a starved process explains: ERROR
// records of disconnects whose deadline came first.
func checkLogs(rs []*route, stats map[string]*routeStats, lc *logCheck) (errs []error, starved []string) {
	s := lc.state
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stray > 0 {
		errs = append(errs, fmt.Errorf("server log: %d records of no request of the load, first: %s", s.stray, s.firstStray))
	}
	for _, r := range rs {
		st := stats[r.name]
		rl := s.byRoute[r.name]
		if rl == nil {
			rl = &routeLogs{}
		}
		switch {
		case r.disconnect:
			// The client left: the library writes nothing, and logs it
			// below ERROR. A request abandoned before its handler ran
			// leaves no library record at all, hence at most. A 503 at
			// ERROR means the server's deadline came before the client
			// gave up: only a starved process explains that.
			if rl.errors > rl.errors503 {
				errs = append(errs, fmt.Errorf("server log: %s: %d records at ERROR for client disconnects, first: %s", r.name, rl.errors, rl.firstError))
			} else if rl.errors503 > 0 {
				starved = append(starved, fmt.Sprintf("%s: %d 503s logged at ERROR", r.name, rl.errors503))
			}
			if st.sent > 0 && (rl.clientGone == 0 || rl.clientGone > st.sent) {
				errs = append(errs, fmt.Errorf("server log: %s: %d \"client closed the request\" records for %d disconnects", r.name, rl.clientGone, st.sent))
			}
		case r.errorLogged:
			n5xx := 0
			for code, n := range st.statuses {
				if code >= 500 {
					n5xx += n
				}
			}
			if rl.errors != n5xx {
				errs = append(errs, fmt.Errorf("server log: %s: %d records at ERROR for %d 5xx responses, want one each", r.name, rl.errors, n5xx))
			}
		default:
			if rl.errors > 0 {
				errs = append(errs, fmt.Errorf("server log: %s: %d records at ERROR, first: %s", r.name, rl.errors, rl.firstError))
			}
		}
		if !r.disconnect && rl.access != st.responses {
			errs = append(errs, fmt.Errorf("server log: %s: %d access records for %d responses", r.name, rl.access, st.responses))
		}
		if rl.clientGone > 0 && !r.disconnect {
			errs = append(errs, fmt.Errorf("server log: %s: %d \"client closed the request\" records, but this client waits", r.name, rl.clientGone))
		}
	}
	return errs, starved
}

// countingWriter takes what Echo's own logger writes, which should be
// nothing: the library and the clinic's slog logger say it all.
type countingWriter struct {
	mu    sync.Mutex
	n     int
	first []byte
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n += len(p)
	if w.first == nil {
		w.first = bytes.Clone(p[:min(len(p), 300)])
	}
	return len(p), nil
}

// joinErrs is errors.Join with a cap, so that a broken run prints its
// first failures, not thousands.
func joinErrs(errs []error, limit int) error {
	if len(errs) > limit {
		more := len(errs) - limit
		errs = append(errs[:limit:limit], fmt.Errorf("… and %d more", more))
	}
	return errors.Join(errs...)
}
