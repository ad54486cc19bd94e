package problem

import (
	"strings"

	"github.com/virtuheal/apierrors/internal/accept"
)

// Negotiate returns MediaTypeXML when the Accept header value prefers an
// XML type (application/problem+xml, application/xml, text/xml or any
// +xml type) over every JSON type, and MediaType otherwise: when Accept is
// empty, is */*, names a JSON or +json type, or matches neither format.
//
// Each format's weight is the q-value of the most specific media range
// that matches it (RFC 9110 §12.5.1), so "application/json;q=0, */*"
// excludes JSON and picks XML. Ties go to JSON. Only the first 4 KiB and
// 64 ranges of the header are read.
func Negotiate(header string) string {
	var jsonW, xmlW weight
	for s := accept.NewScanner(header); ; {
		mediaRange, _, q, ok := s.Next()
		if !ok {
			break
		}
		typ, sub, ok := strings.Cut(mediaRange, "/")
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
