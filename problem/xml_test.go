package problem_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"reflect"
	"strings"
	"testing"

	"github.com/virtuheal/apierrors/problem"
	"github.com/virtuheal/apierrors/status"
)

// The example of RFC 9457 Appendix B, verbatim.
const rfcXML = `<?xml version="1.0" encoding="UTF-8"?>
   <problem xmlns="urn:ietf:rfc:7807">
     <type>https://example.com/probs/out-of-credit</type>
     <title>You do not have enough credit.</title>
     <detail>Your current balance is 30, but that costs 50.</detail>
     <instance>https://example.net/account/12345/msgs/abc</instance>
     <balance>30</balance>
     <accounts>
       <i>https://example.net/account/12345</i>
       <i>https://example.net/account/67890</i>
     </accounts>
   </problem>`

func decodeXML(t *testing.T, s string) *problem.Problem {
	t.Helper()
	var p problem.Problem
	if err := xml.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return &p
}

func TestDecodeRFCXMLExample(t *testing.T) {
	p := decodeXML(t, rfcXML)
	want := problem.Problem{
		Type:     "https://example.com/probs/out-of-credit",
		Title:    "You do not have enough credit.",
		Detail:   "Your current balance is 30, but that costs 50.",
		Instance: "https://example.net/account/12345/msgs/abc",
		Extensions: map[string]any{
			"balance":  "30",
			"accounts": []any{"https://example.net/account/12345", "https://example.net/account/67890"},
		},
	}
	if !reflect.DeepEqual(*p, want) {
		t.Errorf("got %#v\nwant %#v", *p, want)
	}
}

func TestAppendXML(t *testing.T) {
	p := problem.New(status.UnprocessableEntity).WithInstance("/patients?x=<y>").
		With("errors", []problem.FieldError{{Detail: "must be <valid>", Pointer: "#/email", Rule: "email"}}).
		With("retry", map[string]any{"after": 3, "bad key": 1}).
		With("not a name", 1).
		With("xmlns", "reserved")
	got, err := p.AppendXML(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<problem xmlns="urn:ietf:rfc:7807"><type>about:blank</type><title>Unprocessable Entity</title><status>422</status>` +
		`<detail>The request was well-formed but was unable to be followed due to semantic errors.</detail>` +
		`<instance>/patients?x=%3Cy%3E</instance>` +
		`<errors><i><detail>must be &lt;valid&gt;</detail><pointer>#/email</pointer><rule>email</rule></i></errors>` +
		`<retry><after>3</after></retry></problem>`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}

	back := decodeXML(t, string(got))
	if back.Status != 422 || back.Instance != "/patients?x=%3Cy%3E" {
		t.Errorf("decoded %+v", back)
	}
	if fe := back.Errors(); len(fe) != 1 || fe[0].Pointer != "#/email" || fe[0].Detail != "must be <valid>" {
		t.Errorf("Errors() after XML = %+v", fe)
	}
}

func TestDecodeXMLLenient(t *testing.T) {
	tests := []struct {
		name, in string
		want     problem.Problem
	}{
		{"no namespace, absent type", `<problem><title>t</title></problem>`, problem.Problem{Type: "about:blank", Title: "t"}},
		{"status with spaces", `<problem xmlns="urn:ietf:rfc:7807"><status> 404 </status></problem>`, problem.Problem{Type: "about:blank", Status: 404}},
		{"non-numeric status ignored", `<problem><status>four</status></problem>`, problem.Problem{Type: "about:blank"}},
		{"element where text belongs ignored", `<problem><title><b>x</b></title></problem>`, problem.Problem{Type: "about:blank"}},
		{"object extension", `<problem><limits><max>5</max><min>1</min></limits></problem>`,
			problem.Problem{Type: "about:blank", Extensions: map[string]any{"limits": map[string]any{"max": "5", "min": "1"}}}},
		{"attributes ignored", `<problem a="1"><title lang="en">t</title></problem>`, problem.Problem{Type: "about:blank", Title: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decodeXML(t, tt.in); !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %#v\nwant %#v", *got, tt.want)
			}
		})
	}
}

func TestDecodeXMLMalformed(t *testing.T) {
	for name, in := range map[string]string{
		"wrong root":      `<error><title>t</title></error>`,
		"wrong namespace": `<problem xmlns="urn:example"><title>t</title></problem>`,
		"truncated":       `<problem><title>t</title>`,
		"mismatched tags": `<problem><title>t</detail></problem>`,
		"too deep":        `<problem><x>` + strings.Repeat("<i>", 300) + strings.Repeat("</i>", 300) + `</x></problem>`,
		"unknown entity":  `<problem><title>&boom;</title></problem>`,
	} {
		t.Run(name, func(t *testing.T) {
			var p problem.Problem
			if err := xml.Unmarshal([]byte(in), &p); err == nil {
				t.Errorf("decoded without error: %+v", p)
			}
		})
	}
}

func FuzzXMLRoundTrip(f *testing.F) {
	for _, s := range []string{rfcXML, `<problem/>`, `<problem><status>1</status><a><i>1</i><i><b>2</b></i></a></problem>`, "<problem><title>\xff</title></problem>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var p problem.Problem
		if xml.Unmarshal(in, &p) != nil {
			return
		}
		first, err := p.AppendXML(nil)
		if err != nil {
			t.Fatalf("decoded but cannot encode: %v", err)
		}
		var again problem.Problem
		if err := xml.Unmarshal(first, &again); err != nil {
			t.Fatalf("cannot decode own output %s: %v", first, err)
		}
		second, err := again.AppendXML(nil)
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("unstable:\n%s\n%s (%v)", first, second, err)
		}
		if _, err := json.Marshal(&again); err != nil {
			t.Fatalf("an XML problem does not encode as JSON: %v", err)
		}
	})
}
