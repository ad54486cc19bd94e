package middleware

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/problem"
)

// maxInstance bounds the instance member. A longer path is left out
// rather than cut, since a cut could break a percent-escape.
const maxInstance = 2048

// instance returns the request path as a URI reference that stays valid
// whatever the client sent: without the query, escaped by
// problem.EscapeURIReference, and with a leading "//" (which would read as
// a host name) broken up. It allocates only when it must escape.
func instance(r *http.Request) string {
	if p := r.URL.Path; r.URL.RawPath == "" && cleanPath(p) {
		return p // the common case, which escaping would leave as it is
	}
	p := r.URL.EscapedPath()
	if strings.HasPrefix(p, "//") {
		p = "/%2F" + p[2:]
	}
	if p = problem.EscapeURIReference(p); len(p) > maxInstance {
		return ""
	}
	return p
}

// pathSafe marks the bytes that URL.EscapedPath and
// problem.EscapeURIReference both leave as they are.
var pathSafe = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~$&+,/:;=@") {
		t[c] = true
	}
	return t
}()

// cleanPath reports whether escaping would leave p as it is: it holds only
// safe bytes, does not start with "//" and is not too long.
func cleanPath(p string) bool {
	if len(p) > maxInstance || strings.HasPrefix(p, "//") || p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		if !pathSafe[p[i]] {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// first returns the first value of the header key, which must be in
// canonical form: indexing the map skips Get's canonicalisation, a cost
// every error response would pay several times.
func first(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// maxRequestID bounds the request id the body repeats.
const maxRequestID = 128

// requestID returns the request id of Echo's RequestID middleware (on the
// response) or of the client (on the request). An id that is too long or
// holds anything but letters, digits and -_.:+/=@~ is dropped: it would be
// reflected to the client.
func requestID(c echo.Context) string {
	id := first(c.Response().Header(), "X-Request-Id")
	if id == "" {
		id = first(c.Request().Header, "X-Request-Id")
	}
	if !ValidRequestID(id) {
		return ""
	}
	return id
}

// ValidRequestID reports whether id is fit to be echoed to a client: 1 to
// 128 bytes of letters, digits and -_.:+/=@~. A service whose RequestID
// middleware reflects client ids can use it to drop hostile ones first.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !requestIDByte[id[i]] {
			return false
		}
	}
	return true
}

// requestIDByte marks the bytes ValidRequestID allows: one load per byte,
// as every error response of a service with request ids checks one.
var requestIDByte = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:+/=@~") {
		t[c] = true
	}
	return t
}()

// traceID returns the trace id of a valid W3C traceparent header
// ("00-<32 hex>-<16 hex>-<2 hex>"), or "" for a missing or malformed one.
func traceID(r *http.Request) string {
	tp := strings.TrimSpace(first(r.Header, "Traceparent"))
	const v0Len = 55
	if len(tp) < v0Len || tp[2] != '-' || tp[35] != '-' || tp[52] != '-' {
		return ""
	}
	version, trace, parent, flags := tp[:2], tp[3:35], tp[36:52], tp[53:55]
	if !isLowerHex(version) || version == "ff" || !isLowerHex(trace) || !isLowerHex(parent) || !isLowerHex(flags) {
		return ""
	}
	if strings.Trim(trace, "0") == "" || strings.Trim(parent, "0") == "" {
		return ""
	}
	if len(tp) > v0Len && (version == "00" || tp[v0Len] != '-') {
		return "" // version 00 has no more fields; later ones add them after a dash
	}
	return trace
}
