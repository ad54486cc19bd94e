package problem

import "strings"

// Limits on the Accept header Negotiate reads, so that a hostile header
// costs bounded work. Media ranges past them are ignored.
const (
	maxAcceptBytes  = 4096
	maxAcceptRanges = 64
)

// Negotiate returns MediaTypeXML when the Accept header value prefers an
// XML type (application/problem+xml, application/xml, text/xml or any
// +xml type) over every JSON type, and MediaType otherwise: when Accept is
// empty, is */*, names a JSON or +json type, or matches neither format.
//
// Each format's weight is the q-value of the most specific media range
// that matches it (RFC 9110 §12.5.1), so "application/json;q=0, */*"
// excludes JSON and picks XML. Ties go to JSON.
func Negotiate(accept string) string {
	if accept == "" {
		return MediaType
	}
	if len(accept) > maxAcceptBytes {
		accept = accept[:maxAcceptBytes]
	}
	var jsonW, xmlW weight
	for i := 0; i < maxAcceptRanges && accept != ""; i++ {
		var r string
		r, accept, _ = strings.Cut(accept, ",")
		mediaRange, params, _ := strings.Cut(r, ";")
		typ, sub, ok := strings.Cut(strings.TrimSpace(mediaRange), "/")
		if !ok {
			continue
		}
		q, ok := qValue(params)
		if !ok {
			continue
		}
		switch {
		case typ == "*" && sub == "*":
			jsonW.offer(1, q)
			xmlW.offer(1, q)
		case strings.EqualFold(typ, "application") && sub == "*":
			jsonW.offer(2, q)
			xmlW.offer(2, q)
		case strings.EqualFold(typ, "text") && sub == "*":
			xmlW.offer(2, q) // text/xml
		case isSubtype(sub, "json") && strings.EqualFold(typ, "application"):
			jsonW.offer(3, q)
		case isSubtype(sub, "xml") && (strings.EqualFold(typ, "application") || strings.EqualFold(typ, "text")):
			xmlW.offer(3, q)
		}
	}
	if xmlW.q > jsonW.q {
		return MediaTypeXML
	}
	return MediaType
}

// weight tracks the q-value of the most specific range seen for a format.
type weight struct {
	specificity int // 0 none, 1 */*, 2 type/*, 3 the format itself
	q           int // thousandths
}

func (w *weight) offer(specificity, q int) {
	switch {
	case specificity > w.specificity:
		w.specificity, w.q = specificity, q
	case specificity == w.specificity && q > w.q:
		w.q = q
	}
}

// isSubtype reports whether sub is format ("json") or ends in "+format".
func isSubtype(sub, format string) bool {
	sub = strings.TrimSpace(sub)
	if strings.EqualFold(sub, format) {
		return true
	}
	n := len(sub) - len(format)
	return n > 0 && sub[n-1] == '+' && strings.EqualFold(sub[n:], format)
}

// qValue returns the q parameter among a media range's parameters in
// thousandths: 1000 when absent, and ok false when it is malformed.
func qValue(params string) (q int, ok bool) {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		return parseQ(strings.TrimSpace(value))
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
	if q > 1000 {
		return 0, false
	}
	return q, true
}
