// Command ratios reads the raw output of the benchmarks (many samples of
// each, as run.sh collects them) and prints, from the median of each
// benchmark's samples: every benchmark's cost relative to
// Success/Passthrough and to Floor, each group's peers relative to each
// other, and the targets with the measured ratio and PASS or MISS.
//
//	go run ./cmd/ratios results.txt
//
// Targets are judged on medians, or with -by fastest on each benchmark's
// smallest sample, the least disturbed when other load shares the
// machine. It exits 1 when the input holds no benchmark results, or when
// -strict is given and a target is missed.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func main() {
	strict := flag.Bool("strict", false, "exit 1 when a target is missed")
	by := flag.String("by", "median", `the statistic that judges the targets: "median", or "fastest" (the smallest sample: the least disturbed one when other load shares the machine)`)
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ratios [-strict] results.txt...  (stdin when none)")
		flag.PrintDefaults()
	}
	flag.Parse()
	switch *by {
	case "median":
	case "fastest":
		judgeByFastest = true
	default:
		fatal(fmt.Errorf("-by %q: want median or fastest", *by))
	}

	set := newResults()
	if flag.NArg() == 0 {
		if err := set.read(os.Stdin); err != nil {
			fatal(err)
		}
	}
	for _, name := range flag.Args() {
		f, err := os.Open(name)
		if err != nil {
			fatal(err)
		}
		err = set.read(f)
		f.Close()
		if err != nil {
			fatal(fmt.Errorf("%s: %w", name, err))
		}
	}
	if len(set.order) == 0 {
		fatal(fmt.Errorf("no benchmark results in the input"))
	}

	printTable(os.Stdout, set)
	fmt.Println()
	printPeers(os.Stdout, set)
	fmt.Println()
	missed := printTargets(os.Stdout, set)
	if missed > 0 && *strict {
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "ratios:", err)
	os.Exit(1)
}

// ---------------------------------------------------------------------
// Reading.

// results holds every sample of every benchmark, by name without the
// "Benchmark" prefix and the -GOMAXPROCS suffix ("NotFound/Library").
type results struct {
	order   []string
	samples map[string]map[string][]float64 // name → unit → values
}

func newResults() *results {
	return &results{samples: map[string]map[string][]float64{}}
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// read adds the benchmark lines of r: "BenchmarkX/Y-2  N  v unit  v unit…".
func (s *results) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.ParseInt(f[1], 10, 64); err != nil {
			continue // not a result line
		}
		name := procsSuffix.ReplaceAllString(strings.TrimPrefix(f[0], "Benchmark"), "")
		units := s.samples[name]
		if units == nil {
			units = map[string][]float64{}
			s.samples[name] = units
			s.order = append(s.order, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return fmt.Errorf("line %q: %v", sc.Text(), err)
			}
			units[f[i+1]] = append(units[f[i+1]], v)
		}
	}
	return sc.Err()
}

// median returns the median of name's samples in unit, and whether there
// are any.
func (s *results) median(name, unit string) (float64, bool) {
	v := slices.Clone(s.samples[name][unit])
	if len(v) == 0 {
		return 0, false
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2], true
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2, true
}

// fastest returns the smallest of name's samples in unit. Under other
// load on the machine it is the sample least disturbed.
func (s *results) fastest(name, unit string) (float64, bool) {
	v := s.samples[name][unit]
	if len(v) == 0 {
		return 0, false
	}
	return slices.Min(v), true
}

func (s *results) count(name string) int { return len(s.samples[name]["ns/op"]) }

// spread is the largest distance of a sample from the median, as a
// fraction of the median: a rough bound on the noise of one row.
func (s *results) spread(name string) float64 {
	m, ok := s.median(name, "ns/op")
	if !ok || m == 0 {
		return 0
	}
	var d float64
	for _, v := range s.samples[name]["ns/op"] {
		d = max(d, abs(v-m)/m)
	}
	return d
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// ---------------------------------------------------------------------
// Tables.

const (
	passthrough = "Success/Passthrough"
	floor       = "Floor"
)

func group(name string) string {
	g, _, _ := strings.Cut(name, "/")
	return g
}

func printTable(w io.Writer, s *results) {
	fmt.Fprintln(w, "Medians of each benchmark's samples (fastest: the smallest sample); ratios of median ns/op.")
	fmt.Fprintf(w, "%-28s %4s %11s %7s %11s %8s %9s %13s %7s\n",
		"benchmark", "n", "ns/op", "±max", "fastest", "B/op", "allocs/op", "×Passthrough", "×Floor")
	pt, hasPT := s.median(passthrough, "ns/op")
	fl, hasFl := s.median(floor, "ns/op")
	for _, name := range s.order {
		ns, _ := s.median(name, "ns/op")
		fast, _ := s.fastest(name, "ns/op")
		bytes, _ := s.median(name, "B/op")
		allocs, _ := s.median(name, "allocs/op")
		fmt.Fprintf(w, "%-28s %4d %11.1f %6.1f%% %11.1f %8.0f %9.0f %13s %7s\n",
			name, s.count(name), ns, 100*s.spread(name), fast, bytes, allocs,
			ratioCell(ns, pt, hasPT), ratioCell(ns, fl, hasFl))
	}
}

func ratioCell(v, ref float64, ok bool) string {
	if !ok || ref == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", v/ref)
}

// printPeers prints, for each group of two or more, every member's ns/op
// and allocs/op against every other's.
func printPeers(w io.Writer, s *results) {
	fmt.Fprintln(w, "Peers: row ÷ column, ns/op (allocs/op difference).")
	var groups []string
	members := map[string][]string{}
	for _, name := range s.order {
		g := group(name)
		if _, ok := members[g]; !ok {
			groups = append(groups, g)
		}
		members[g] = append(members[g], name)
	}
	for _, g := range groups {
		ms := members[g]
		if len(ms) < 2 {
			continue
		}
		fmt.Fprintf(w, "\n%-28s", g)
		for _, col := range ms {
			fmt.Fprintf(w, " %18s", strings.TrimPrefix(col, g+"/"))
		}
		fmt.Fprintln(w)
		for _, row := range ms {
			fmt.Fprintf(w, "  %-26s", strings.TrimPrefix(row, g+"/"))
			rn, _ := s.median(row, "ns/op")
			ra, _ := s.median(row, "allocs/op")
			for _, col := range ms {
				if row == col {
					fmt.Fprintf(w, " %18s", "·")
					continue
				}
				cn, _ := s.median(col, "ns/op")
				ca, _ := s.median(col, "allocs/op")
				fmt.Fprintf(w, " %18s", fmt.Sprintf("%.2f× (%+.0f)", rn/cn, ra-ca))
			}
			fmt.Fprintln(w)
		}
	}
}

// ---------------------------------------------------------------------
// Targets.

// judgeByFastest makes the targets judge the smallest samples instead of
// the medians.
var judgeByFastest bool

// judged returns the statistic the targets judge, and the other one.
func (s *results) judged(name, unit string) (v, other float64, ok bool) {
	m, ok1 := s.median(name, unit)
	f, ok2 := s.fastest(name, unit)
	if judgeByFastest {
		return f, m, ok1 && ok2
	}
	return m, f, ok1 && ok2
}

func otherName() string {
	if judgeByFastest {
		return "medians"
	}
	return "fastest samples"
}

// A target is one of the goals, judged on medians.
type target struct {
	text  string
	judge func(s *results) (measured string, pass, ok bool)
}

// nsRatio: ns/op of name ≤ limit × ns/op of ref.
func nsRatio(name, ref string, limit float64) target {
	return target{
		text: fmt.Sprintf("%s ns/op ≤ %.2f× %s", name, limit, ref),
		judge: func(s *results) (string, bool, bool) {
			a, oa, ok1 := s.judged(name, "ns/op")
			b, ob, ok2 := s.judged(ref, "ns/op")
			if !ok1 || !ok2 || b == 0 || ob == 0 {
				return "", false, false
			}
			return fmt.Sprintf("%.3f×  (%s: %.3f×)", a/b, otherName(), oa/ob), a/b <= limit, true
		},
	}
}

// allocsOver: allocs/op of name ≤ allocs/op of ref + extra.
func allocsOver(name, ref string, extra float64) target {
	text := fmt.Sprintf("%s allocs/op ≤ %s + %.0f", name, ref, extra)
	if extra == 0 {
		text = fmt.Sprintf("%s allocs/op = %s", name, ref)
	}
	return target{
		text: text,
		judge: func(s *results) (string, bool, bool) {
			a, _, ok1 := s.judged(name, "allocs/op")
			b, _, ok2 := s.judged(ref, "allocs/op")
			if !ok1 || !ok2 {
				return "", false, false
			}
			pass := a <= b+extra
			if extra == 0 {
				pass = a == b
			}
			return fmt.Sprintf("%.0f vs %.0f (%+.0f)", a, b, a-b), pass, true
		},
	}
}

// allocsAtMost: allocs/op of name ≤ n.
func allocsAtMost(name string, n float64) target {
	return target{
		text: fmt.Sprintf("%s allocs/op ≤ %.0f", name, n),
		judge: func(s *results) (string, bool, bool) {
			a, _, ok := s.judged(name, "allocs/op")
			if !ok {
				return "", false, false
			}
			return fmt.Sprintf("%.0f", a), a <= n, true
		},
	}
}

// targets are the issue's, in its order.
func targets() []target {
	ts := []target{
		allocsOver("Success/Library", passthrough, 0),
		nsRatio("Success/Library", passthrough, 1.10),
	}
	for _, lib := range []string{"NotFound/Library", "Conflict/LibrarySentinel", "Conflict/LibraryProblem"} {
		peer := group(lib) + "/EchoDefault"
		ts = append(ts,
			allocsAtMost(lib, 3),
			nsRatio(lib, peer, 0.70),
			nsRatio(lib, floor, 2.50),
		)
	}
	ts = append(ts,
		nsRatio("Validation/Library", "Validation/EchoDefault", 1.25),
		nsRatio("Validation/Library", "Validation/Huma", 0.60),
		allocsOver("Validation/Library", "Validation/EchoDefault", 8),
		nsRatio("Panic/Library", "Panic/EchoRecover", 1.00),
	)
	return ts
}

// printTargets prints each target's verdict and returns how many were
// missed. A target whose benchmarks are absent from the input (a run
// limited with BENCH) is reported as not measured.
func printTargets(w io.Writer, s *results) int {
	if judgeByFastest {
		fmt.Fprintln(w, "Targets (judged on the fastest samples; the ratio of the medians in parentheses):")
	} else {
		fmt.Fprintln(w, "Targets (judged on medians; the ratio of the fastest samples in parentheses, for a loaded machine):")
	}
	missed, passed, absent := 0, 0, 0
	for _, t := range targets() {
		measured, pass, ok := t.judge(s)
		verdict := "PASS"
		switch {
		case !ok:
			verdict, measured = "----", "not measured"
			absent++
		case !pass:
			verdict = "MISS"
			missed++
		default:
			passed++
		}
		fmt.Fprintf(w, "  %-4s  %-66s %s\n", verdict, t.text, measured)
	}
	fmt.Fprintf(w, "targets: %d passed, %d missed, %d not measured\n", passed, missed, absent)
	return missed
}
