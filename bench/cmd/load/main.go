// Command load drives the example clinic service on loopback with a
// mixed workload at a fixed rate, and fails unless every answer is right
// and the server gives back what it took.
//
//	go run ./cmd/load            # 60 s at 400 req/s
//	go run ./cmd/load -short     # 5 s at 200 req/s: what CI runs
//
// It starts the clinic in this process (api.New behind an http.Server on
// 127.0.0.1, a port chosen by the kernel) and attacks it with vegeta: a
// fixed total rate, cycling over a weighted mix of successes, 404, 409,
// 422 with nested fields, one client over the rate limit (401 under it,
// 429 over it), panics (500), requests that outlive their deadline (503)
// and clients that give up mid-request. It prints per route the count,
// the statuses and p50, p99 and max latency, and checks:
//
//   - no transport errors, except the disconnects it makes on purpose;
//   - every status is one the route expects, and a 429 occurred;
//   - every non-2xx answer is a problem: application/problem+json, read
//     by problem.Parse, accepted by the JSON Schema of RFC 9457
//     Appendix A, its status member the HTTP status, its type and title
//     the documented ones, its request_id the request's;
//   - the clinic's logs: one access record per response, ERROR records
//     only for the 500s and 503s (one each), none for the disconnects
//     (which the library logs as "client closed the request"), nothing
//     else;
//   - outcomes that only a starved process explains (a well-behaved
//     token's 429 after vegeta catches up in a burst, a /reports/slow
//     whose own timer beat the deadline, a disconnect the deadline beat)
//     are accepted only if the process was seen to stall for at least
//     half the request deadline (a ticker's lateness, or a runnable
//     goroutine's wait, from /sched/latencies:seconds);
//   - goroutines back to the count before the clinic started, within
//     5 s of its shutdown, and HeapInuse after a GC no more than 8 MiB
//     above its value before;
//
// and it prints the peak RSS of the process. The attacker runs in the
// same process and shares the cores with the server, so latencies and
// RSS are those of both. It exits 1 when a check fails.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/virtuheal/apierrors/examples/clinic/api"
	"github.com/virtuheal/apierrors/examples/clinic/patient"
	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/problem"
)

// heapSlack is how far HeapInuse may end above its baseline.
const heapSlack = 8 << 20

// goroutineSettle is how long goroutines get to return to the baseline.
const goroutineSettle = 5 * time.Second

// clientIdle is how long the attacker keeps an idle connection: well
// under the server's ReadHeaderTimeout.
const clientIdle = 2 * time.Second

type config struct {
	rate            int
	duration        time.Duration
	tokenRate       float64
	timeout         time.Duration
	disconnectAfter time.Duration
	maxWorkers      uint64
	logPath         string
}

func main() {
	var c config
	short := flag.Bool("short", false, "a short run for CI: -duration 5s -rate 200, unless given")
	flag.IntVar(&c.rate, "rate", 400, "requests per second, all routes together")
	flag.DurationVar(&c.duration, "duration", 60*time.Second, "length of the attack")
	flag.Float64Var(&c.tokenRate, "token-rate", 0, "the clinic's rate limit per token, in requests per second (api.Options.Rate); 0 is 8% of -rate, which only the over-limit route's token exceeds")
	flag.DurationVar(&c.timeout, "timeout", time.Second, "the clinic's request deadline (api.Options.Timeout); /reports/slow outlives it")
	flag.DurationVar(&c.disconnectAfter, "disconnect-after", 50*time.Millisecond, "the disconnecting client gives up after this long; less than half -timeout")
	flag.Uint64Var(&c.maxWorkers, "max-workers", 512, "most concurrent requests (vegeta workers)")
	flag.StringVar(&c.logPath, "log", "", `also write the clinic's JSON logs to this file ("-" for stderr); by default they are checked, then discarded`)
	flag.Parse()
	if *short {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			c.duration = 5 * time.Second
		}
		if !set["rate"] {
			c.rate = 200
		}
	}
	if c.tokenRate == 0 {
		c.tokenRate = 0.08 * float64(c.rate)
	}
	if c.rate < 10 || c.rate > 20000 || c.duration < time.Second || c.duration > 30*time.Minute ||
		c.timeout < 20*time.Millisecond || c.disconnectAfter <= 0 || 2*c.disconnectAfter > c.timeout ||
		c.maxWorkers < 1 || c.tokenRate < 1 {
		fatal(errors.New("flags out of range: -rate in [10, 20000], -duration in [1s, 30m], -timeout at least 20ms, -disconnect-after in (0, timeout/2], -max-workers and -token-rate at least 1"))
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr)
		fatal(err)
	}
	fmt.Println("\nload: PASS")
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "load: FAIL:", err)
	os.Exit(1)
}

func run(c config) error {
	rs := routes()
	if err := checkMix(rs, c); err != nil {
		return err
	}

	// Compile the schema now: it stays for the life of the process, so
	// it belongs in the baseline.
	if err := problemtest.ValidateSchema([]byte(`{"status":404}`)); err != nil {
		return fmt.Errorf("schema self-check: %w", err)
	}

	// Everything after this is the clinic's and the attack's, and must be
	// given back.
	baseGoroutines, baseHeap := settle()

	var logOut io.Writer = io.Discard
	switch c.logPath {
	case "":
	case "-":
		logOut = os.Stderr
	default:
		f, err := os.Create(c.logPath)
		if err != nil {
			return err
		}
		defer f.Close()
		logOut = f
	}
	logs := newLogCheck(slog.NewJSONHandler(logOut, nil))
	logger := slog.New(logs)
	e := api.New(api.Options{
		Rate:        c.tokenRate,
		Timeout:     c.timeout,
		ProblemBase: problemBase,
		Logger:      logger,
		Store:       patient.NewStore(),
	})
	echoOut := &countingWriter{}
	e.Logger.SetOutput(echoOut)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler: e,
		// A connection the client dialed but never used is closed after
		// ReadHeaderTimeout; the client's pool drops idle connections
		// well before (clientIdle), so that it never sends a request on
		// one the server is closing: a POST would fail, not be retried.
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      c.timeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logs, slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	base := "http://" + ln.Addr().String()

	fmt.Printf("load: clinic on %s; %d req/s for %s; per-token limit %.0f req/s; request deadline %s; disconnect after %s\n",
		base, c.rate, c.duration, c.tokenRate, c.timeout, c.disconnectAfter)
	fmt.Printf("go %s, GOMAXPROCS %d, nproc %d; the attacker shares the CPUs with the server\n",
		runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())

	// The attacker's client: vegeta's options that touch the transport
	// assume its own, so the transport is configured here.
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: int(min(c.maxWorkers, 1024)),
		IdleConnTimeout:     clientIdle,
	}
	client := &http.Client{
		Transport: &loadTransport{base: tr, disconnectAfter: c.disconnectAfter},
		Timeout:   c.timeout + 30*time.Second,
	}
	atk := vegeta.NewAttacker(
		vegeta.Client(client),
		vegeta.Workers(min(c.maxWorkers, 32)),
		vegeta.MaxWorkers(c.maxWorkers),
		vegeta.MaxBody(problem.MaxParseSize),
	)
	buildTargets(rs, base)

	peaks := sample()
	stats := map[string]*routeStats{}
	byName := map[string]*route{}
	for _, r := range rs {
		stats[r.name] = &routeStats{statuses: map[int]int{}}
		byName[r.name] = r
	}
	var total vegeta.Metrics
	var failures, transportErrs []error
	failed := map[string]int{}
	var counts [wrong + 1]int
	for res := range atk.Attack(mixTargeter(rs), vegeta.Rate{Freq: c.rate, Per: time.Second}, c.duration, "load") {
		name := res.URL[strings.LastIndexByte(res.URL, '#')+1:]
		r := byName[name]
		if r == nil {
			return fmt.Errorf("a result of no route: %s %s: %s", res.Method, res.URL, res.Error)
		}
		st := stats[name]
		st.sent++
		st.statuses[int(res.Code)]++
		if res.Code != 0 {
			st.responses++
		}
		out, err := checkResult(r, res)
		counts[out]++
		switch {
		case out == transportErr:
			if len(transportErrs) < 10 {
				transportErrs = append(transportErrs, fmt.Errorf("%s #%d: %w", name, st.sent, err))
			}
		case err != nil:
			failed[name]++
			if failed[name] <= 3 {
				failures = append(failures, fmt.Errorf("%s #%d: %w", name, st.sent, err))
			}
		case out == starvedOnly:
			st.starved++
		}
		res.Body = nil // the metrics keep nothing of it
		st.metrics.Add(res)
		total.Add(res)
	}
	total.Close()

	// Shut down: the server first (it waits for every handler), then the
	// attacker's idle connections.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	shutdownErr := srv.Shutdown(ctx)
	cancel()
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		shutdownErr = errors.Join(shutdownErr, err)
	}
	tr.CloseIdleConnections()
	peakGoroutines, peakHeap, stall := peaks()

	// Report.
	fmt.Printf("\n%-11s %-9s %8s  %-28s %10s %10s %10s\n", "route", "want", "requests", "statuses", "p50", "p99", "max")
	for _, r := range rs {
		st := stats[r.name]
		st.metrics.Close()
		fmt.Printf("%-11s %-9s %8d  %-28s %10s %10s %10s\n", r.name, wantText(r), st.sent, statusText(st.statuses),
			round(st.metrics.Latencies.P50), round(st.metrics.Latencies.P99), round(st.metrics.Latencies.Max))
	}
	fmt.Printf("%-11s %-9s %8d  %-28s %10s %10s %10s\n", "all", "", total.Requests, "",
		round(total.Latencies.P50), round(total.Latencies.P99), round(total.Latencies.Max))
	fmt.Printf("rate: %.1f req/s sent of %d asked, over %s; stall: %s (the longer of a 100 ms ticker's lateness and a runnable goroutine's wait)\n",
		total.Rate, c.rate, total.Duration.Round(time.Millisecond), round(stall))

	var checks []error
	check := func(ok bool, err error, line string) {
		verdict := "ok  "
		if !ok {
			verdict = "FAIL"
			checks = append(checks, err)
		}
		fmt.Printf("%s %s\n", verdict, line)
	}
	fmt.Println()
	check(counts[transportErr] == 0, fmt.Errorf("%d transport errors: %w", counts[transportErr], joinErrs(transportErrs, 10)),
		fmt.Sprintf("transport errors: %d (and %d client disconnects, on purpose)", counts[transportErr], counts[disconnected]))
	nFailed := counts[wrong]
	nonSuccess := 0
	for _, st := range stats {
		for code, n := range st.statuses {
			if code >= 300 {
				nonSuccess += n
			}
		}
	}
	check(nFailed == 0, joinErrs(failures, 20),
		fmt.Sprintf("responses: %d wrong; %d non-2xx, each a valid problem (Content-Type, problem.Parse, Appendix A schema, status, type, title, request_id)", nFailed, nonSuccess))
	for _, r := range rs {
		if r.mustSee != 0 {
			n := stats[r.name].statuses[r.mustSee]
			check(n > 0, fmt.Errorf("%s: no %d in %d requests", r.name, r.mustSee, stats[r.name].sent),
				fmt.Sprintf("%s: %d × %d", r.name, n, r.mustSee))
		}
	}
	logErrs, logStarved := checkLogs(rs, stats, logs)
	if echoOut.n > 0 {
		logErrs = append(logErrs, fmt.Errorf("the Echo logger wrote %d bytes, first: %q", echoOut.n, echoOut.first))
	}
	check(len(logErrs) == 0, joinErrs(logErrs, 20), "server log: "+logSummary(rs, logs))

	// What only starvation explains is accepted when starvation was seen.
	var starved []string
	for _, r := range rs {
		st := stats[r.name]
		if st.starved == 0 {
			continue
		}
		var codes []string
		for _, code := range r.starved {
			if n := st.statuses[code]; n > 0 {
				codes = append(codes, fmt.Sprintf("%d×%d", code, n))
			}
		}
		starved = append(starved, r.name+" "+strings.Join(codes, " "))
	}
	starved = append(starved, logStarved...)
	threshold := c.timeout / 2
	switch {
	case len(starved) == 0:
		check(true, nil, "outcomes that only a starved process explains: none")
	default:
		check(stall >= threshold,
			fmt.Errorf("outcomes that only a starved process explains (%s), but the stall was %s, under %s", strings.Join(starved, "; "), round(stall), threshold),
			fmt.Sprintf("outcomes that only a starved process explains, accepted after a stall of %s (at least %s): %s", round(stall), threshold, strings.Join(starved, "; ")))
	}
	check(shutdownErr == nil, fmt.Errorf("shutdown: %w", shutdownErr), "graceful shutdown")

	// Leaks: goroutines back to the baseline, heap near it.
	var goroutines int
	deadline := time.Now().Add(goroutineSettle)
	for {
		goroutines, _ = settle()
		if goroutines <= baseGoroutines || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if goroutines > baseGoroutines {
		fmt.Fprintln(os.Stderr, "goroutines left:")
		_ = pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
	}
	check(goroutines <= baseGoroutines, fmt.Errorf("%d goroutines after the run, %d before", goroutines, baseGoroutines),
		fmt.Sprintf("goroutines: %d before, %d after (peak %d during the run)", baseGoroutines, goroutines, peakGoroutines))
	_, heap := settle()
	check(heap <= baseHeap+heapSlack, fmt.Errorf("HeapInuse %s after the run, %s before: more than %s above", mib(heap), mib(baseHeap), mib(heapSlack)),
		fmt.Sprintf("heap (HeapInuse after GC): %s before, %s after, at most %s more (peak live heap %s during the run)",
			mib(baseHeap), mib(heap), mib(heapSlack), mib(peakHeap)))
	if rss, ok := peakRSS(); ok {
		fmt.Printf("     peak RSS: %s (attacker and server together)\n", mib(rss))
	}
	if len(checks) > 0 {
		return joinErrs(checks, 20)
	}
	return nil
}

// checkMix refuses a mix in which the over-limit token would not exceed
// the per-token limit, or another token could come near it: their
// expected statuses would not hold.
func checkMix(rs []*route, c config) error {
	over := map[string]bool{}
	for _, r := range rs {
		if r.name == overLimitRoute {
			for _, t := range r.tokens {
				over[t] = true
			}
		}
	}
	for tok, rate := range tokenRates(rs, float64(c.rate)) {
		if over[tok] && rate < 1.5*c.tokenRate {
			return fmt.Errorf("-token-rate %.1f: token %s sends %.1f req/s, want at least 1.5× the limit for 429s", c.tokenRate, tok, rate)
		}
		if !over[tok] && rate > 0.6*c.tokenRate {
			return fmt.Errorf("-token-rate %.1f: token %s sends %.1f req/s, want at most 0.6× the limit, clear of 429s", c.tokenRate, tok, rate)
		}
	}
	return nil
}

// settle collects garbage and returns the goroutine count and HeapInuse.
func settle() (goroutines int, heapInuse uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return runtime.NumGoroutine(), ms.HeapInuse
}

// sample records the peak goroutine count and live heap every 100 ms
// until the returned function is called, which returns them and the
// stall: how starved the process was, which on a shared machine explains
// a latency tail. The stall is the longer of two: how late the 100 ms
// ticker fired (the whole process stopped: descheduled, throttled, or a
// VM's stolen time), and the longest any goroutine waited to run while
// runnable (a backlog of goroutines on too little CPU), from the
// runtime's histogram /sched/latencies:seconds.
func sample() func() (goroutines int, heap uint64, stall time.Duration) {
	const every = 100 * time.Millisecond
	stop, done := make(chan struct{}), make(chan struct{})
	s := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}, {Name: "/memory/classes/heap/objects:bytes"}}
	var g, h uint64
	var late time.Duration
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		last := time.Now()
		for {
			metrics.Read(s)
			g, h = max(g, s[0].Value.Uint64()), max(h, s[1].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
				now := time.Now() // the tick's value is when it was due
				late = max(late, now.Sub(last)-every)
				last = now
			}
		}
	}()
	return func() (int, uint64, time.Duration) {
		close(stop)
		<-done
		return int(g), h, max(late, longestSchedWait())
	}
}

// longestSchedWait returns the lower bound of the highest bucket in use
// of /sched/latencies:seconds, over the life of the process.
func longestSchedWait() time.Duration {
	s := []metrics.Sample{{Name: "/sched/latencies:seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0
	}
	hist := s[0].Value.Float64Histogram()
	for i := len(hist.Counts) - 1; i >= 0; i-- {
		if hist.Counts[i] > 0 {
			return time.Duration(hist.Buckets[i] * float64(time.Second))
		}
	}
	return 0
}

func logSummary(rs []*route, lc *logCheck) string {
	s := lc.state
	s.mu.Lock()
	defer s.mu.Unlock()
	access, stray := 0, s.stray
	var parts []string
	for _, r := range rs {
		rl := s.byRoute[r.name]
		if rl == nil {
			continue
		}
		access += rl.access
		switch {
		case r.disconnect:
			parts = append(parts, fmt.Sprintf("%s %d \"client closed the request\" and %d ERROR", r.name, rl.clientGone, rl.errors))
		case rl.errors > 0:
			parts = append(parts, fmt.Sprintf("%s %d ERROR", r.name, rl.errors))
		}
	}
	return fmt.Sprintf("%d access records; %s; %d other", access, strings.Join(parts, ", "), stray)
}

func wantText(r *route) string {
	if r.disconnect {
		return "gone"
	}
	var s []string
	for _, c := range r.want {
		s = append(s, fmt.Sprint(c))
	}
	return strings.Join(s, ",")
}

func statusText(m map[int]int) string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var s []string
	for _, c := range codes {
		name := fmt.Sprint(c)
		if c == 0 {
			name = "gone"
		}
		s = append(s, fmt.Sprintf("%s×%d", name, m[c]))
	}
	return strings.Join(s, " ")
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
