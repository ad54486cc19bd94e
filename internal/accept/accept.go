// Package accept reads the weighted lists of HTTP's Accept and
// Accept-Language headers (RFC 9110 §12.4.2) with bounded work, so that a
// hostile header costs no more than a normal one. It allocates nothing.
package accept

import "strings"

// Bounds on what a Scanner reads; the rest of a header is ignored.
const (
	MaxBytes = 4096
	MaxItems = 64
)

// A Scanner steps through the elements of a weighted list.
type Scanner struct {
	rest string
	left int
}

// NewScanner returns a Scanner over the header value h.
func NewScanner(h string) Scanner {
	if len(h) > MaxBytes {
		h = h[:MaxBytes]
	}
	return Scanner{rest: h, left: MaxItems}
}

// Next returns the next element's value (trimmed, without parameters),
// its parameters, and its weight in thousandths (1000 without a q
// parameter). It skips empty elements and ones with a malformed qvalue,
// and reports false at the end.
func (s *Scanner) Next() (value, params string, q int, ok bool) {
	for s.rest != "" && s.left > 0 {
		s.left--
		var elem string
		elem, s.rest, _ = strings.Cut(s.rest, ",")
		value, params, _ = strings.Cut(elem, ";")
		value = strings.TrimSpace(value)
		q, ok = qValue(params)
		if ok && value != "" {
			return value, params, q, true
		}
	}
	return "", "", 0, false
}

// qValue returns the q parameter among params in thousandths: 1000 when
// absent, and ok false when it is malformed.
func qValue(params string) (q int, ok bool) {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			return parseQ(strings.TrimSpace(value))
		}
	}
	return 1000, true
}

// parseQ parses a qvalue: "0" ["." 0*3DIGIT] or "1" ["." 0*3("0")].
func parseQ(s string) (int, bool) {
	if s == "" || len(s) > 5 || (s[0] != '0' && s[0] != '1') {
		return 0, false
	}
	q := int(s[0]-'0') * 1000
	if len(s) == 1 {
		return q, true
	}
	if s[1] != '.' {
		return 0, false
	}
	scale := 100
	for _, c := range []byte(s[2:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		q += int(c-'0') * scale
		scale /= 10
	}
	return q, q <= 1000
}
