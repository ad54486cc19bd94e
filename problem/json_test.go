package problem_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/virtuheal/apierrors/internal/problemtest"
	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// The examples of RFC 9457 §3, verbatim.
const (
	rfcOutOfCredit = `{
    "type": "https://example.com/probs/out-of-credit",
    "title": "You do not have enough credit.",
    "detail": "Your current balance is 30, but that costs 50.",
    "instance": "/account/12345/msgs/abc",
    "balance": 30,
    "accounts": ["/account/12345",
                 "/account/67890"]
   }`
	rfcValidation = `{
    "type": "https://example.net/validation-error",
    "title": "Your request is not valid.",
    "errors": [
                {
                  "detail": "must be a positive integer",
                  "pointer": "#/age"
                },
                {
                  "detail": "must be 'green', 'red' or 'blue'",
                  "pointer": "#/profile/color"
                }
             ]
   }`
)

func TestAppendJSON(t *testing.T) {
	tests := []struct {
		name string
		p    *problem.Problem
		want string
	}{
		{"documented code", problem.New(status.NotFound),
			`{"type":"about:blank","title":"Not Found","status":404,"detail":"The server can not find the requested resource."}`},
		{"all members", problem.New(status.Conflict).WithType("/problems/conflict").WithInstance("/patients").WithDetail("email taken"),
			`{"type":"/problems/conflict","title":"Conflict","status":409,"detail":"email taken","instance":"/patients"}`},
		{"empty problem", &problem.Problem{}, `{"type":"about:blank"}`},
		{"extensions sorted, standard names never encoded",
			&problem.Problem{Status: 400, Extensions: map[string]any{"zeta": 1, "status": 500, "alpha": "a", "title": "shadow", "mid": []int{1, 2}}},
			`{"type":"about:blank","status":400,"alpha":"a","mid":[1,2],"zeta":1}`},
		{"escaping as encoding/json", &problem.Problem{Detail: "<b>\"x\" & y</b>\n\t\u2028\x01\xff"},
			`{"type":"about:blank","detail":"\u003cb\u003e\"x\" \u0026 y\u003c/b\u003e\n\t\u2028\u0001\ufffd"}`},
		{"field errors", problem.New(status.UnprocessableEntity).WithDetail("").With("errors", []problem.FieldError{
			{Detail: "email must be a valid email address", Pointer: "#/email", Rule: "email"},
			{Detail: "limit must be 100 or less", Parameter: "limit", Rule: "max", RuleParam: "100"}}),
			`{"type":"about:blank","title":"Unprocessable Entity","status":422,"errors":[{"detail":"email must be a valid email address","pointer":"#/email","rule":"email"},{"detail":"limit must be 100 or less","parameter":"limit","rule":"max","param":"100"}]}`},
		{"nil extension", &problem.Problem{Extensions: map[string]any{"x": nil}}, `{"type":"about:blank","x":null}`},
		{"many extensions", &problem.Problem{Extensions: map[string]any{"k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, "k0": 0}},
			`{"type":"about:blank","k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.AppendJSON([]byte("prefix:"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix:"+tt.want {
				t.Errorf("got  %s\nwant prefix:%s", got, tt.want)
			}
			viaMarshal, err := json.Marshal(tt.p)
			if err != nil || string(viaMarshal) != tt.want {
				t.Errorf("json.Marshal = %s, %v", viaMarshal, err)
			}
			if err := problemtest.ValidateSchema(viaMarshal); err != nil {
				t.Errorf("Appendix A schema rejects %s: %v", viaMarshal, err)
			}
		})
	}
}

// TestEncodingMatchesEncodingJSON compares the hand-written encoder with
// encoding/json member by member, so a fast path can never drift.
func TestEncodingMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", "<>&", "\u2028\u2029", "\x00\x1f\x7f", "é漢🙂", "\xc3\x28", "\xed\xa0\x80", "a\\b\"c", "\b\f\n\r\t"}
	for _, s := range strs {
		want, _ := json.Marshal(s)
		got, err := (&problem.Problem{Detail: s}).AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if s != "" && !bytes.Contains(got, append([]byte(`"detail":`), want...)) {
			t.Errorf("detail %q encodes as %s; encoding/json gives %s", s, got, want)
		}
	}
	fes := []problem.FieldError{{Detail: "<x>", Pointer: "#/a~1b", Parameter: "p", Header: "h", Rule: "r", RuleParam: "1"}, {}}
	want, _ := json.Marshal(map[string]any{"errors": fes})
	got, _ := (&problem.Problem{Extensions: map[string]any{"errors": fes}}).AppendJSON(nil)
	if !bytes.HasSuffix(got, want[1:]) {
		t.Errorf("field errors encode as %s; encoding/json gives %s", got, want)
	}
}

func TestAppendJSONUnencodable(t *testing.T) {
	type node struct{ Next *node }
	cycle := &node{}
	cycle.Next = cycle
	for name, v := range map[string]any{"channel": make(chan int), "NaN": math.NaN(), "cycle": cycle, "func": func() {}} {
		t.Run(name, func(t *testing.T) {
			buf := []byte("keep")
			got, err := problem.New(status.BadRequest).With("bad", v).AppendJSON(buf)
			if err == nil {
				t.Fatalf("no error; got %s", got)
			}
			if string(got) != "keep" {
				t.Errorf("buffer extended on failure: %q", got)
			}
		})
	}
}

func decode(t *testing.T, s string) *problem.Problem {
	t.Helper()
	var p problem.Problem
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return &p
}

func TestDecodeRFCExamples(t *testing.T) {
	p := decode(t, rfcOutOfCredit)
	if p.Type != "https://example.com/probs/out-of-credit" || p.Title != "You do not have enough credit." ||
		p.Detail != "Your current balance is 30, but that costs 50." || p.Instance != "/account/12345/msgs/abc" || p.Status != 0 {
		t.Errorf("standard members = %+v", p)
	}
	if p.Extensions["balance"] != json.Number("30") {
		t.Errorf("balance = %#v", p.Extensions["balance"])
	}
	if !reflect.DeepEqual(p.Extensions["accounts"], []any{"/account/12345", "/account/67890"}) {
		t.Errorf("accounts = %#v", p.Extensions["accounts"])
	}

	v := decode(t, rfcValidation)
	want := []problem.FieldError{
		{Detail: "must be a positive integer", Pointer: "#/age"},
		{Detail: "must be 'green', 'red' or 'blue'", Pointer: "#/profile/color"},
	}
	if got := v.Errors(); !reflect.DeepEqual(got, want) {
		t.Errorf("Errors() = %+v", got)
	}
}

func TestDecodeLenient(t *testing.T) {
	tests := []struct {
		name, in string
		want     problem.Problem
	}{
		{"absent type is about:blank", `{"title":"t"}`, problem.Problem{Type: "about:blank", Title: "t"}},
		{"wrong member types are ignored", `{"type":1,"title":["x"],"status":"404","detail":null,"instance":{}}`,
			problem.Problem{Type: "about:blank"}},
		{"fractional status is ignored", `{"status":404.5}`, problem.Problem{Type: "about:blank"}},
		{"status in exponent form is ignored", `{"status":4e2}`, problem.Problem{Type: "about:blank"}},
		{"duplicate keys: the last wins", `{"title":"a","title":"b"}`, problem.Problem{Type: "about:blank", Title: "b"}},
		{"invalid UTF-8 becomes U+FFFD", "{\"detail\":\"a\xffb\"}", problem.Problem{Type: "about:blank", Detail: "a\ufffdb"}},
		{"huge number kept exactly", `{"n":1e400}`, problem.Problem{Type: "about:blank", Extensions: map[string]any{"n": json.Number("1e400")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decode(t, tt.in); !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %#v\nwant %#v", *got, tt.want)
			}
		})
	}
}

func TestDecodeMalformed(t *testing.T) {
	deep := strings.Repeat("[", 10001) + strings.Repeat("]", 10001)
	for name, in := range map[string]string{
		"truncated":        `{"type":"a"`,
		"array":            `[1,2]`,
		"null":             `null`,
		"string":           `"problem"`,
		"trailing garbage": `{} {}`,
		"not JSON":         `<problem/>`,
		"empty":            ``,
		"too deep":         `{"x":` + deep + `}`,
	} {
		t.Run(name, func(t *testing.T) {
			var p problem.Problem
			if err := json.Unmarshal([]byte(in), &p); err == nil {
				t.Errorf("decoded %q without error: %+v", in, p)
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 500) + "1" + strings.Repeat("}", 500)
	for _, in := range []string{
		rfcOutOfCredit,
		rfcValidation,
		`{"type":"t","status":503,"retry":{"after":[1,2.50,"s",true,null]},"n":-0.000001e-10}`,
		`{"x":` + deep + `}`,
	} {
		first, err := json.Marshal(decode(t, in))
		if err != nil {
			t.Fatal(err)
		}
		second, err := json.Marshal(decode(t, string(first)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, second) {
			t.Errorf("round trip unstable:\n%s\n%s", first, second)
		}
		var a, b any
		_ = json.Unmarshal([]byte(in), &a)
		_ = json.Unmarshal(first, &b)
		if am, ok := a.(map[string]any); ok {
			if _, has := am["type"]; !has {
				am["type"] = "about:blank"
			}
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("round trip lost members:\nin  %s\nout %s", in, first)
		}
	}
}

func FuzzJSONRoundTrip(f *testing.F) {
	for _, s := range []string{rfcOutOfCredit, rfcValidation, `{}`, `{"status":"x"}`, `{"a":{"b":[1,{"c":null}]}}`, "{\"\xff\":\"\xfe\"}", `{"n":1e400,"m":-0}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var p problem.Problem
		if json.Unmarshal(in, &p) != nil {
			return
		}
		first, err := json.Marshal(&p)
		if err != nil {
			t.Fatalf("decoded but cannot encode: %v", err)
		}
		if !json.Valid(first) {
			t.Fatalf("encoded invalid JSON: %s", first)
		}
		var again problem.Problem
		if err := json.Unmarshal(first, &again); err != nil {
			t.Fatalf("cannot decode own output %s: %v", first, err)
		}
		second, err := json.Marshal(&again)
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("unstable:\n%s\n%s (%v)", first, second, err)
		}
	})
}

// TestAppendStringEveryBytePosition puts each byte value, and multi-byte
// runes, at each position of plain text long enough to be scanned a word
// at a time, and compares the escaping with encoding/json's: the word scan
// must stop at exactly the bytes that need care.
func TestAppendStringEveryBytePosition(t *testing.T) {
	const plain = "abcdefghijklmnopqrstuvwx" // three words
	var specials []string
	for c := range 256 {
		specials = append(specials, string([]byte{byte(c)}))
	}
	specials = append(specials, "é", "\u2028", "\u2029", "€", "\U0001F600", "\xe2\x80")
	for _, sp := range specials {
		for pos := 0; pos <= len(plain); pos++ {
			s := plain[:pos] + sp + plain[pos:]
			got, err := (&problem.Problem{Title: s}).AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			esc, _ := json.Marshal(s)
			want := append(append([]byte(`{"type":"about:blank","title":`), esc...), '}')
			if !bytes.Equal(got, want) {
				t.Fatalf("%q at %d:\ngot  %s\nwant %s", sp, pos, got, want)
			}
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "<&>", "\u2028", "\xff", "\x00", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := (&problem.Problem{Title: s}).AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []byte(`{"type":"about:blank"}`)
		if s != "" {
			esc, _ := json.Marshal(s)
			want = append(append([]byte(`{"type":"about:blank","title":`), esc...), '}')
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}

func TestTemplateMatchesAppendJSON(t *testing.T) {
	bases := []*problem.Problem{
		problem.New(status.NotFound).WithType("/problems/not-found"),
		problem.New(status.TooManyRequests).WithType("https://api.example.com/p/<&>"),
		{Status: 500},
		{Title: "Entité non traitable", Status: 422, Detail: "« détail »"},
		{},
	}
	occurrences := []struct {
		detail, instance string
		ext              map[string]any
	}{
		{"", "", nil},
		{"", "/patients/p-1", nil},
		{"Patient p-1 is locked.", "/patients/p-1", map[string]any{"request_id": "r1", "errors": []problem.FieldError{{Detail: "x", Pointer: "#/a"}}}},
		{"<b>", "/a%20b", map[string]any{"n": 1, "status": "shadow"}},
	}
	for _, base := range bases {
		tmpl := base.Template()
		for _, o := range occurrences {
			p := *base
			if o.detail != "" {
				p.Detail = o.detail
			}
			p.Instance, p.Extensions = o.instance, o.ext
			want, err := p.AppendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tmpl.AppendJSON([]byte("x"), o.detail, o.instance, o.ext)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "x"+string(want) {
				t.Errorf("template gives %s\nAppendJSON gives %s", got[1:], want)
			}
			// The same members as a list, in map order and reversed.
			var members []problem.Member
			for k, v := range o.ext {
				members = append(members, problem.Member{Name: k, Value: v})
			}
			for range 2 {
				given := slices.Clone(members)
				got, err := tmpl.AppendJSONMembers([]byte("x"), o.detail, o.instance, members...)
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != "x"+string(want) {
					t.Errorf("members %v give %s\nAppendJSON gives %s", members, got[1:], want)
				}
				if !reflect.DeepEqual(members, given) {
					t.Errorf("AppendJSONMembers reordered its argument: %v, given %v", members, given)
				}
				slices.Reverse(members)
			}
		}
	}
	if _, err := problem.New(status.BadRequest).Template().AppendJSON(nil, "", "", map[string]any{"c": make(chan int)}); err == nil {
		t.Error("an unencodable extension encoded")
	}
}

// TestAppendJSONMembers covers what a list allows and a map does not: a
// name given twice, and more members than the sort's stack array holds.
func TestAppendJSONMembers(t *testing.T) {
	tmpl := problem.New(status.Conflict).Template()
	for _, members := range [][]problem.Member{
		{{"a", 1}, {"a", 2}},
		{{"b", 1}, {"a", 2}, {"b", 3}},
		{{"status", 1}, {"status", 2}},
		{{"a", 1}, {"c", make(chan int)}},
	} {
		if got, err := tmpl.AppendJSONMembers([]byte("x"), "", "", members...); err == nil || string(got) != "x" {
			t.Errorf("members %v gave %q, %v; want b unextended and an error", members, got, err)
		}
	}

	ext := map[string]any{}
	var members []problem.Member
	for i := range 20 {
		name := fmt.Sprintf("m%02d", (i*7)%20) // out of order
		ext[name] = i
		members = append(members, problem.Member{Name: name, Value: i})
	}
	p := problem.New(status.Conflict)
	p.Extensions = ext
	want, err := p.AppendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.AppendJSONMembers(nil, "", "", members...)
	if err != nil || string(got) != string(want) {
		t.Errorf("20 members give %s, %v\nAppendJSON gives %s", got, err, want)
	}
}

// TestEncodedErrorsEncodeAsTheList checks that an EncodedErrors extension
// gives, in every encoding, the bytes of the list it was made from.
func TestEncodedErrorsEncodeAsTheList(t *testing.T) {
	lists := map[string][]problem.FieldError{
		"nil":   nil,
		"empty": {},
		"one":   {{Detail: "name is a required field", Pointer: "#/name", Rule: "required"}},
		"escaped": {
			{Detail: "<x> & \u2028 \"q\"", Pointer: "#/a~1b", Rule: "r", RuleParam: "1"},
			{Detail: "é漢", Parameter: "limit"},
			{Detail: "\xc3\x28", Header: "X-Id"},
			{},
		},
	}
	base := problem.New(status.UnprocessableEntity).WithType("/problems/unprocessable-entity")
	for name, list := range lists {
		t.Run(name, func(t *testing.T) {
			must := func(b []byte, err error) []byte {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			enc := problem.EncodeErrors(list)
			for _, ext := range []map[string]any{
				{},
				{"request_id": "r1", "a": 1}, // keys on either side of "errors"
			} {
				want := base.WithInstance("/p").With(problem.ErrorsKey, list)
				got := base.WithInstance("/p").With(problem.ErrorsKey, enc)
				for k, v := range ext {
					want, got = want.With(k, v), got.With(k, v)
				}
				wantJSON := must(want.AppendJSON(nil))
				for encoder, gotJSON := range map[string][]byte{
					"AppendJSON":          must(got.AppendJSON(nil)),
					"Template.AppendJSON": must(base.Template().AppendJSON(nil, "", "/p", got.Extensions)),
				} {
					if !bytes.Equal(gotJSON, wantJSON) {
						t.Errorf("%s:\n got %s\nwant %s", encoder, gotJSON, wantJSON)
					}
				}
				if wantXML, gotXML := must(want.AppendXML(nil)), must(got.AppendXML(nil)); !bytes.Equal(gotXML, wantXML) {
					t.Errorf("AppendXML:\n got %s\nwant %s", gotXML, wantXML)
				}
			}
			wantStd, _ := json.Marshal(list)
			gotStd, err := json.Marshal(enc)
			if err != nil || !bytes.Equal(gotStd, wantStd) {
				t.Errorf("json.Marshal = %s, %v; want %s", gotStd, err, wantStd)
			}
		})
	}
}

// TestEncodedErrorsOwnTheirList checks that an EncodedErrors, shared by
// many responses, is not changed through the list it was made from or
// the lists it hands out.
func TestEncodedErrorsOwnTheirList(t *testing.T) {
	list := []problem.FieldError{{Detail: "name is a required field", Pointer: "#/name"}}
	enc := problem.EncodeErrors(list)
	list[0].Detail = "changed by the caller"
	got := enc.Errors()
	got[0].Pointer = "#/changed"
	again := problem.New(status.UnprocessableEntity).With(problem.ErrorsKey, enc).Errors()
	want := problem.FieldError{Detail: "name is a required field", Pointer: "#/name"}
	if len(again) != 1 || again[0] != want {
		t.Errorf("Errors() = %+v, want [%+v]", again, want)
	}
	body, _ := json.Marshal(enc)
	if string(body) != `[{"detail":"name is a required field","pointer":"#/name"}]` {
		t.Errorf("encoding changed with the lists: %s", body)
	}
	var none *problem.EncodedErrors
	if p := problem.New(status.UnprocessableEntity).With(problem.ErrorsKey, none); p.Errors() != nil {
		t.Errorf("Errors() of a nil *EncodedErrors = %+v", p.Errors())
	}
}
