// Command loadcompare measures whole-server throughput of an unknown-route
// 404 with the library mounted, against Echo's default error handler on
// the same routes, in the same run.
//
// A third server, Floor, answers that path from a handler of its own with
// the library's very response, prebuilt: its body and its headers. It
// measures what the response alone costs a server, so that the record can
// tell the library's own cost from that of the response it must send.
//
// It starts the servers in this process on loopback (127.0.0.1, a port
// chosen by the kernel) and drives each with vegeta, one at a time,
// rotating which goes first over several rounds, so that drift of the
// machine touches all alike. Every response is checked: the library's and
// the floor's must be the expected 404 problem (application/problem+json)
// and Echo's its 404 JSON; any other answer makes the command fail.
//
//	go run ./cmd/loadcompare -duration 10s
//
// The attack is bounded by -duration per server and round, and by
// -workers concurrent requests; it sends nothing beyond loopback.
//
// As in the benchmarks, the library's records are discarded by default
// (slog's default logger set to slog.DiscardHandler): Echo's default
// handler logs nothing. -log json gives the library a real
// slog.JSONHandler writing to io.Discard instead.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

const unknownPath = "/v2/patients/p-42" // matches no route of either server

var errPatientNotFound = errors.New("patient not found")

func main() {
	duration := flag.Duration("duration", 10*time.Second, "length of each attack (per server and round)")
	rounds := flag.Int("rounds", 4, "rounds; each attacks both servers, alternating which goes first")
	slice := flag.Duration("slice", time.Second, "the servers take turns in attacks this long, so that a burst of other load on the machine touches both")
	warmup := flag.Duration("warmup", time.Second, "unmeasured attack on each server before the rounds")
	workers := flag.Uint64("workers", 16, "concurrent requests (vegeta workers, one connection each)")
	rate := flag.Int("rate", 0, "requests per second; 0 is as fast as the servers answer")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file; samples carry the labels server=NAME (its connections) and client=NAME (the attack on it), for pprof -tagfocus")
	logMode := flag.String("log", "discard", `the library's records: "discard" (slog.DiscardHandler) or "json" (slog.JSONHandler to io.Discard)`)
	flag.Parse()
	if *duration <= 0 || *duration > 10*time.Minute || *rounds < 1 || *rounds > 20 || *workers < 1 || *workers > 1024 ||
		*slice < 100*time.Millisecond || *slice > *duration {
		fatal(fmt.Errorf("flags out of range: -duration in (0, 10m], -slice in [100ms, duration], -rounds in [1, 20], -workers in [1, 1024]"))
	}

	cfg := middleware.Config{
		TypeBase: "/problems/",
		Rules:    []middleware.Rule{middleware.Is(errPatientNotFound, status.NotFound)},
	}
	switch *logMode {
	case "discard":
		slog.SetDefault(slog.New(slog.DiscardHandler))
	case "json":
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	default:
		fatal(fmt.Errorf("-log %q: want discard or json", *logMode))
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	echoDefault := start("EchoDefault", newEcho(nil))
	library := start("Library", newEcho(func(e *echo.Echo) {
		middleware.Mount(e, cfg)
		e.Validator = middleware.NewValidator()
		e.GET("/problems/*", middleware.ProblemTypesHandler(cfg))
	}))
	defer echoDefault.close()
	defer library.close()

	// What each must answer, taken from one request and checked.
	echoDefault.want = expect(echoDefault, "application/json", func(b []byte) error {
		if string(b) != `{"message":"Not Found"}`+"\n" {
			return fmt.Errorf("body %q", b)
		}
		return nil
	})
	library.want = expect(library, problem.MediaType, checkProblem)
	floor := start("Floor", newFloor(library.want))
	defer floor.close()
	floor.want = expect(floor, problem.MediaType, checkProblem)
	if !maps.EqualFunc(floor.want.header, library.want.header, slices.Equal) {
		fatal(fmt.Errorf("the floor's headers %v differ from the library's %v", floor.want.header, library.want.header))
	}
	servers := []*server{echoDefault, library, floor}

	fmt.Printf("loadcompare: GET %s, %d workers, rate %s, %s per server and round in %s slices, %d rounds, library logs: %s\n",
		unknownPath, *workers, rateText(*rate), *duration, *slice, *rounds, *logMode)
	fmt.Printf("go %s, GOMAXPROCS %d, nproc %d; the attacker shares the CPUs with the servers\n",
		runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())

	if *warmup > 0 {
		for _, s := range servers {
			if r := attack(s, *warmup, *workers, *rate); r.bad > 0 {
				fatal(fmt.Errorf("warm-up: %s: %d wrong responses, first: %v", s.name, r.bad, r.firstBad))
			}
		}
	}

	fmt.Printf("\n%-5s %-12s %10s %12s %10s %10s %10s\n", "round", "server", "requests", "req/s", "p50", "p99", "max")
	// The ratios printed, each of two servers measured in the same slices.
	pairs := []*pair{{a: library, b: echoDefault}, {a: floor, b: echoDefault}, {a: library, b: floor}}
	totals := map[*server]*run{}
	for _, s := range servers {
		totals[s] = &run{}
	}
	bad := 0
	for round := 1; round <= *rounds; round++ {
		// Each round gives each server -duration in slices of -slice,
		// taking turns; which goes first rotates from round to round.
		order := append(slices.Clone(servers[(round-1)%len(servers):]), servers[:(round-1)%len(servers)]...)
		rr := map[*server]*run{}
		lat := map[*server]*vegeta.Metrics{}
		for _, s := range servers {
			rr[s], lat[s] = &run{}, &vegeta.Metrics{}
		}
		for left := *duration; left > 0; left -= *slice {
			d := min(*slice, left)
			rps := map[*server]float64{}
			for _, s := range order {
				r := attack(s, d, *workers, *rate, lat[s])
				rps[s] = r.rps()
				rr[s].add(r)
				totals[s].add(r)
			}
			for _, p := range pairs {
				p.slices = append(p.slices, rps[p.a]/rps[p.b])
			}
		}
		for _, s := range order {
			r := rr[s]
			lat[s].Close()
			r.p50, r.p99, r.max = lat[s].Latencies.P50, lat[s].Latencies.P99, lat[s].Latencies.Max
			fmt.Printf("%-5d %-12s %10d %12.0f %10s %10s %10s\n", round, s.name, r.requests, r.rps(),
				r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond), r.max.Round(time.Microsecond))
			if r.bad > 0 {
				fmt.Printf("      %s: %d wrong responses; first: %v\n", s.name, r.bad, r.firstBad)
				bad += r.bad
			}
		}
		for _, p := range pairs {
			p.rounds = append(p.rounds, rr[p.a].rps()/rr[p.b].rps())
		}
	}

	fmt.Println()
	for _, s := range servers {
		fmt.Printf("%-12s %12.0f req/s over all rounds\n", s.name, totals[s].rps())
	}
	var med float64
	for i, p := range pairs {
		name := p.a.name + "/" + p.b.name
		fmt.Printf("%s req/s: per round %s; over all rounds %.3f×\n",
			name, ratioList(p.rounds), totals[p.a].rps()/totals[p.b].rps())
		q1, m, q3 := quartiles(p.slices)
		fmt.Printf("%s req/s of the slices of one turn: median %.3f× (quartiles %.3f×–%.3f×, %d turns)\n",
			name, m, q1, q3, len(p.slices))
		if i == 0 {
			med = m
		}
	}
	verdict := "PASS"
	if med < 1.0 {
		verdict = "MISS"
	}
	fmt.Printf("target: Library req/s ≥ 1.0× EchoDefault (median over turns): %s\n", verdict)
	if bad > 0 {
		fatal(fmt.Errorf("%d wrong responses", bad))
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "loadcompare:", err)
	os.Exit(1)
}

func rateText(r int) string {
	if r == 0 {
		return "max"
	}
	return fmt.Sprintf("%d/s", r)
}

// ---------------------------------------------------------------------
// Servers.

type server struct {
	name string
	url  string
	srv  *http.Server
	want response
}

// response is what every answer of a server must be. The headers are
// those the handler sets: all but Date and Content-Length, which net/http
// writes.
type response struct {
	contentType string
	header      http.Header
	body        []byte
}

// pair is the ratio of a's throughput to b's, per slice and per round.
type pair struct {
	a, b           *server
	slices, rounds []float64
}

// newFloor returns an Echo whose handler on the unknown path sends the
// library's checked 404 as it is: the same body and headers, prebuilt,
// assigned as the library assigns them. It is the floor of the library's
// answer: what that response costs a server, with nothing to decide.
func newFloor(want response) *echo.Echo {
	type field struct {
		key    string
		values []string
	}
	var fields []field
	for k, v := range want.header {
		fields = append(fields, field{k, v})
	}
	e := newEcho(nil)
	e.GET(unknownPath, func(c echo.Context) error {
		h := c.Response().Header()
		for _, f := range fields {
			h[f.key] = f.values
		}
		c.Response().WriteHeader(http.StatusNotFound)
		_, err := c.Response().Write(want.body)
		return err
	})
	return e
}

// newEcho returns an Echo with a handful of routes, after mount has set
// it up.
func newEcho(mount func(*echo.Echo)) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	if mount != nil {
		mount(e)
	}
	ok := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	e.GET("/health", ok)
	e.GET("/patients", ok)
	e.POST("/patients", ok)
	e.GET("/patients/:id", ok)
	e.PUT("/patients/:id", ok)
	e.DELETE("/patients/:id", ok)
	e.GET("/reports/:year/:month", ok)
	return e
}

func start(name string, e *echo.Echo) *server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fatal(err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 5 * time.Second, ErrorLog: nil}
	// Connection goroutines inherit the label of the goroutine that
	// serves: a CPU profile tells the two servers apart.
	go pprof.Do(context.Background(), pprof.Labels("server", name), func(context.Context) {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fatal(fmt.Errorf("%s: %w", name, err))
		}
	})
	return &server{name: name, url: "http://" + ln.Addr().String() + unknownPath, srv: srv}
}

func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

// expect sends one request to s, checks it, and returns it as what every
// later answer must be.
func expect(s *server, contentType string, checkBody func([]byte) error) response {
	client := &http.Client{Timeout: 5 * time.Second}
	res, err := client.Get(s.url)
	if err != nil {
		fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		fatal(err)
	}
	if res.StatusCode != http.StatusNotFound || res.Header.Get("Content-Type") != contentType {
		fatal(fmt.Errorf("%s: %s with Content-Type %q, want 404 and %q", s.name, res.Status, res.Header.Get("Content-Type"), contentType))
	}
	if err := checkBody(b); err != nil {
		fatal(fmt.Errorf("%s: %w", s.name, err))
	}
	h := res.Header.Clone()
	h.Del("Date")
	h.Del("Content-Length")
	return response{contentType: contentType, header: h, body: b}
}

// checkProblem checks the library's 404: every standard member present
// and right.
func checkProblem(b []byte) error {
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		return fmt.Errorf("body %q: %v", b, err)
	}
	want := map[string]any{
		"type":     "/problems/" + status.NotFound.Slug(),
		"title":    status.NotFound.Title(),
		"status":   float64(http.StatusNotFound),
		"detail":   status.NotFound.Description(),
		"instance": unknownPath,
	}
	for k, v := range want {
		if p[k] != v {
			return fmt.Errorf("body %s: member %s is %v, want %v", b, k, p[k], v)
		}
	}
	return nil
}

// ---------------------------------------------------------------------
// Attacks.

type run struct {
	requests      uint64
	elapsed       time.Duration
	p50, p99, max time.Duration
	bad           int
	firstBad      error
}

// add adds o's requests, time and wrong answers to r.
func (r *run) add(o run) {
	r.requests += o.requests
	r.elapsed += o.elapsed
	if r.firstBad == nil {
		r.firstBad = o.firstBad
	}
	r.bad += o.bad
}

func (r *run) rps() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

// attack sends GET unknownPath to s for d and checks every response. The
// results are added to acc too, for latencies over several attacks.
func attack(s *server, d time.Duration, workers uint64, rate int, acc ...*vegeta.Metrics) run {
	atk := vegeta.NewAttacker(
		vegeta.Workers(workers),
		vegeta.MaxWorkers(workers),
		vegeta.Connections(int(workers)),
		vegeta.MaxConnections(int(workers)),
		vegeta.KeepAlive(true),
		vegeta.Timeout(10*time.Second),
		vegeta.MaxBody(64<<10),
	)
	targeter := vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: s.url})
	var m vegeta.Metrics
	var r run
	var results <-chan *vegeta.Result
	pprof.Do(context.Background(), pprof.Labels("client", s.name), func(context.Context) {
		results = atk.Attack(targeter, vegeta.Rate{Freq: rate, Per: time.Second}, d, s.name)
	})
	for res := range results {
		if err := s.check(res); err != nil {
			r.bad++
			if r.firstBad == nil {
				r.firstBad = err
			}
		}
		m.Add(res)
		for _, a := range acc {
			a.Add(res)
		}
	}
	m.Close()
	r.requests = m.Requests
	r.elapsed = m.Duration + m.Wait
	r.p50, r.p99, r.max = m.Latencies.P50, m.Latencies.P99, m.Latencies.Max
	return r
}

func (s *server) check(res *vegeta.Result) error {
	if res.Code != http.StatusNotFound {
		return fmt.Errorf("status %d (%s)", res.Code, res.Error)
	}
	if ct := res.Headers.Get("Content-Type"); ct != s.want.contentType {
		return fmt.Errorf("Content-Type %q, want %q", ct, s.want.contentType)
	}
	if !bytes.Equal(res.Body, s.want.body) {
		return fmt.Errorf("body %q, want %q", res.Body, s.want.body)
	}
	return nil
}

// quartiles returns the first quartile, the median and the third
// quartile of v, by linear interpolation.
func quartiles(v []float64) (q1, med, q3 float64) {
	v = slices.Clone(v)
	slices.Sort(v)
	q := func(p float64) float64 {
		if len(v) == 0 {
			return 0
		}
		x := p * float64(len(v)-1)
		i := int(x)
		if i+1 >= len(v) {
			return v[len(v)-1]
		}
		return v[i] + (x-float64(i))*(v[i+1]-v[i])
	}
	return q(0.25), q(0.5), q(0.75)
}

func ratioList(v []float64) string {
	var b bytes.Buffer
	for i, x := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%.3f×", x)
	}
	return b.String()
}
