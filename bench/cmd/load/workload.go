package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// A route is one kind of request of the mix: what is sent, how often,
// and what must come back.
type route struct {
	name   string
	method string
	path   string
	// tokens are sent in turn as "Authorization: Bearer …"; none for a
	// route sent without one. The clinic rate-limits per token, before
	// it authenticates: an unknown token is limited too.
	tokens      []string
	contentType string
	body        string
	share       int   // slots of the mix's cycle of 100
	want        []int // expected statuses; empty for the disconnect route
	// starved are statuses that only a starved process explains: they
	// are checked like the others, and accepted only when the load saw
	// the process stall for at least half the request deadline.
	starved    []int
	disconnect bool // the client gives up after -disconnect-after
	mustSee    int  // a status of want that must occur at least once
	// errorLogged: each 5xx response is logged once at ERROR;
	// on every other route an ERROR record is a failure.
	errorLogged bool
	// check is the route's own check of a response, after the common
	// ones; p is nil for a 2xx.
	check func(res *vegeta.Result, p *parsed) error

	targets []vegeta.Target // one per token
}

// The two tokens the clinic knows. Writes need staff-token.
const (
	staffToken  = "staff-token"
	viewerToken = "viewer-token"
)

const (
	panicSecret     = "load-secret"
	disconnectRoute = "disconnect"
	overLimitRoute  = "over-limit"
)

// routes is the mix. Shares add up to 100: the cycle the targeter walks
// is 100 requests long, each route spread evenly over it.
//
// The clinic allows each token the same rate (api.Options.Rate, burst
// equal), before authentication, so the mix is built for one token to
// exceed it and no other to come near: staff-token carries both writes
// (4% of the mix), viewer-token both authenticated reads (4%), the
// unauthenticated routes rotate over four made-up tokens each (3% per
// token), and one made-up token sends 24% alone. With the derived
// per-token limit of 8% of -rate, that is half the limit for the busiest
// well-behaved token, which absorbs a stall of about two seconds, and
// three times the limit for the greedy one, which empties its bucket
// within the first 1.5 s even if the attack reaches only half its rate.
// Only staff-token and viewer-token are valid, so the greedy client gets
// 401 while under its limit and 429 over it.
//
// Timing makes three outcomes possible that the design excludes, and
// only when the process goes unscheduled for a long while, as on a
// machine with more runnable threads than cores: vegeta then catches up
// on the requests it owes in one burst, which can empty a well-behaved
// token's bucket (429); the clinic's /reports/slow can see its own timer
// of twice the deadline fire in the same run of timers as the deadline,
// and answer 200 (to either route); and the disconnecting client's 50 ms
// timer can fire
// after the server's deadline, so that it receives the 503 (or the
// server logs a 503 at ERROR for a client already gone). Those are the
// routes' starved statuses.
func routes() []*route {
	limited := []int{http.StatusTooManyRequests} // the token's bucket ran dry after a stall
	return []*route{
		{
			name: "health", method: http.MethodGet, path: "/healthz", share: 32,
			want: []int{http.StatusOK},
		},
		{
			name: "get", method: http.MethodGet, path: "/patients/p-1", share: 2,
			tokens:  []string{viewerToken},
			want:    []int{http.StatusOK},
			starved: limited,
		},
		{
			name: "not-found", method: http.MethodGet, path: "/patients/p-nope", share: 2,
			tokens:  []string{viewerToken},
			want:    []int{http.StatusNotFound},
			starved: limited,
		},
		{
			name: "conflict", method: http.MethodPost, path: "/patients", share: 2,
			tokens:      []string{staffToken},
			contentType: "application/json",
			body:        `{"name":"Ada","email":"ada@example.com","birth_date":"1815-12-10"}`,
			want:        []int{http.StatusConflict},
			starved:     limited,
		},
		{
			name: "invalid", method: http.MethodPost, path: "/patients", share: 2,
			tokens:      []string{staffToken},
			contentType: "application/json",
			body: `{"name":"Grace Hopper","email":"grace@example.com","birth_date":"1906-12-09",` +
				`"contacts":[{"name":"Vincent","phone":"555-0100"},{"name":"","phone":"+12025550123"}]}`,
			want:    []int{http.StatusUnprocessableEntity},
			starved: limited,
			check:   wantPointers("#/contacts/0/phone", "#/contacts/1/name"),
		},
		{
			name: overLimitRoute, method: http.MethodGet, path: "/patients", share: 24,
			tokens:  []string{"greedy-client"},
			want:    []int{http.StatusUnauthorized, http.StatusTooManyRequests},
			mustSee: http.StatusTooManyRequests,
			check:   checkOverLimit,
		},
		{
			name: "panic", method: http.MethodGet, path: "/debug/panic?msg=" + panicSecret, share: 12,
			tokens:      rotate("panic-client", 4),
			want:        []int{http.StatusInternalServerError},
			starved:     limited,
			errorLogged: true,
			check:       checkNoSecret,
		},
		{
			name: "deadline", method: http.MethodGet, path: "/reports/slow", share: 12,
			tokens:      rotate("report-client", 4),
			want:        []int{http.StatusServiceUnavailable},
			starved:     []int{http.StatusOK, http.StatusTooManyRequests},
			errorLogged: true,
			check:       wantHeader("Retry-After", "30"),
		},
		{
			name: disconnectRoute, method: http.MethodGet, path: "/reports/slow", share: 12,
			tokens:     rotate("impatient-client", 4),
			disconnect: true,
			starved:    []int{http.StatusOK, http.StatusTooManyRequests, http.StatusServiceUnavailable},
		},
	}
}

func rotate(prefix string, n int) []string {
	var t []string
	for i := 1; i <= n; i++ {
		t = append(t, fmt.Sprintf("%s-%d", prefix, i))
	}
	return t
}

// tokenRates returns each token's request rate for a total of rate
// requests per second.
func tokenRates(rs []*route, rate float64) map[string]float64 {
	total := 0
	for _, r := range rs {
		total += r.share
	}
	out := map[string]float64{}
	for _, r := range rs {
		for _, t := range r.tokens {
			out[t] += rate * float64(r.share) / float64(total) / float64(len(r.tokens))
		}
	}
	return out
}

// buildTargets makes each route's targets against base. The URL's
// fragment names the route: vegeta copies the target's URL into each
// Result, which is how results are grouped, and a client never sends a
// fragment, so the server sees the plain path.
func buildTargets(rs []*route, base string) {
	for _, r := range rs {
		tokens := r.tokens
		if len(tokens) == 0 {
			tokens = []string{""}
		}
		r.targets = nil
		for _, tok := range tokens {
			h := http.Header{}
			if tok != "" {
				h.Set("Authorization", "Bearer "+tok)
			}
			if r.contentType != "" {
				h.Set("Content-Type", r.contentType)
			}
			var body []byte
			if r.body != "" {
				body = []byte(r.body)
			}
			r.targets = append(r.targets, vegeta.Target{
				Method: r.method, URL: base + r.path + "#" + r.name, Body: body, Header: h,
			})
		}
	}
}

// schedule spreads the routes over a cycle by smooth weighted round
// robin: each route's slots are evenly apart, not in a block.
func schedule(rs []*route) []int {
	total := 0
	for _, r := range rs {
		total += r.share
	}
	current := make([]int, len(rs))
	out := make([]int, 0, total)
	for range total {
		best := 0
		for i, r := range rs {
			current[i] += r.share
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		out = append(out, best)
	}
	return out
}

// mixTargeter returns a vegeta.Targeter that walks the cycle forever,
// each route rotating over its tokens. vegeta's workers call it
// concurrently.
func mixTargeter(rs []*route) vegeta.Targeter {
	cycle := schedule(rs)
	var mu sync.Mutex
	n := 0
	turns := make([]int, len(rs))
	return func(t *vegeta.Target) error {
		if t == nil {
			return vegeta.ErrNilTarget
		}
		mu.Lock()
		i := cycle[n%len(cycle)]
		n++
		r := rs[i]
		*t = r.targets[turns[i]%len(r.targets)]
		turns[i]++
		mu.Unlock()
		return nil
	}
}

// errDisconnected marks a request the client abandoned on purpose. It
// ends up in vegeta's Result.Error as text.
var errDisconnected = errors.New("load: client disconnected on purpose")

// loadTransport is the attacker's http.RoundTripper. It gives every
// request a unique X-Request-Id, "load-<route>-<n>", so that the clinic's
// log records can be tied to the route, and it abandons requests of the
// disconnect route after a delay, as a client that gives up would.
type loadTransport struct {
	base            *http.Transport
	disconnectAfter time.Duration
	seq             atomic.Uint64
}

func (t *loadTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	name := req.URL.Fragment
	ctx := req.Context()
	var cancel context.CancelFunc
	if name == disconnectRoute {
		ctx, cancel = context.WithTimeout(ctx, t.disconnectAfter)
	}
	// Which connection a request got, to tell a failure on a reused
	// connection from one on a new.
	var conn httptrace.GotConnInfo
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { conn = i }})
	r := req.Clone(ctx)
	id := fmt.Sprintf("load-%s-%d", name, t.seq.Add(1))
	r.Header.Set("X-Request-Id", id)
	resp, err := t.base.RoundTrip(r)
	if err != nil && (cancel == nil || ctx.Err() == nil) {
		err = fmt.Errorf("%w (X-Request-Id %s; connection reused %v, idle %s before)", err, id, conn.Reused, conn.IdleTime.Round(time.Millisecond))
	}
	if cancel == nil {
		return resp, err
	}
	if err != nil {
		gaveUp := errors.Is(ctx.Err(), context.DeadlineExceeded) && req.Context().Err() == nil
		cancel()
		if gaveUp {
			return nil, fmt.Errorf("%w after %s: %w", errDisconnected, t.disconnectAfter, err)
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
