// Package problemtest holds test helpers shared by this module's tests:
// validation of problem bodies against the JSON Schema of RFC 9457
// Appendix A, and a goroutine leak check. Only tests import it.
package problemtest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.uber.org/goleak"
)

// appendixA is the schema of RFC 9457 Appendix A, with its RFC 8792 line
// wrapping undone. It is non-normative; the RFC's text prevails, which is
// why the tests also check members the schema leaves open.
//
//go:embed rfc9457-appendix-a.schema.json
var appendixA []byte

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(appendixA))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // uri-reference must be checked, not just annotated
	c.RegisterFormat(&jsonschema.Format{Name: "uri-reference", Validate: uriReference})
	if err := c.AddResource("rfc9457-appendix-a.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("rfc9457-appendix-a.schema.json")
})

// ValidateSchema reports whether body is a JSON document that the
// RFC 9457 Appendix A schema accepts, with format assertions on.
func ValidateSchema(body []byte) error {
	schema, err := compiled()
	if err != nil {
		return fmt.Errorf("compile schema: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("body is not JSON: %w", err)
	}
	return schema.Validate(inst)
}

// uriReference checks the URI-reference grammar of RFC 3986 §4.1 strictly.
// The validator's own check uses url.Parse, which accepts spaces and other
// characters a URI cannot hold.
func uriReference(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil // the format applies to strings only
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return fmt.Errorf("bad percent-encoding at %d", i)
			}
		case c == '[' || c == ']':
			if !strings.HasPrefix(s, "//[") && !strings.Contains(s, "://[") {
				return fmt.Errorf("%q outside an IP literal", c)
			}
		case c < 0x80 && (isAlnum(c) || strings.IndexByte("-._~:/?#@!$&'()*+,;=", c) >= 0):
		default:
			return fmt.Errorf("character %q not allowed in a URI", c)
		}
	}
	if strings.Count(s, "#") > 1 {
		return fmt.Errorf("more than one fragment")
	}
	if scheme, _, found := strings.Cut(s, ":"); found && !strings.ContainsAny(scheme, "/?#") {
		if scheme == "" || !isAlpha(scheme[0]) || strings.IndexFunc(scheme, func(r rune) bool {
			return !(r < 0x80 && (isAlnum(byte(r)) || r == '+' || r == '-' || r == '.'))
		}) >= 0 {
			return fmt.Errorf("bad scheme %q", scheme)
		}
	}
	_, err := url.Parse(s)
	return err
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool { return isAlpha(c) || c >= '0' && c <= '9' }
func isHex(c byte) bool   { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }

// VerifyNoLeaks runs a package's tests, then fails the run when any
// goroutine outlives them. Idle keep-alive connections of the default
// HTTP client are closed first: they belong to the client, not to the
// code under test.
func VerifyNoLeaks(m *testing.M) {
	code := m.Run()
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		t.CloseIdleConnections()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines outlive the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// Logs is a sink for slog's JSON handler that a test can read while the
// server under test writes to it from other goroutines.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Take returns everything written so far and empties the sink.
func (l *Logs) Take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	l.buf.Reset()
	return s
}

// Records decodes the JSON records written so far, one per line.
func (l *Logs) Records() ([]map[string]any, error) {
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return recs, fmt.Errorf("log line %q: %w", line, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}
