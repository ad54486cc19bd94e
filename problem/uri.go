package problem

import (
	"net/url"
	"strings"
)

// EscapeURIReference returns s as a valid URI reference (RFC 3986 §4.1),
// percent-encoding every byte that cannot stand where it is: spaces,
// controls, non-ASCII bytes, a "%" that starts no escape, brackets outside
// an IP literal, a second "#", and the ":" of a first segment that is not
// a valid scheme (which would make "a b:c" read as a scheme). A valid
// reference comes back unchanged, without allocating, so escaping twice
// changes nothing.
//
// The encoders apply it to type and instance, which RFC 9457 defines as
// URI references.
func EscapeURIReference(s string) string {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		plain = uriPlain[s[i]]
	}
	if plain {
		return s // the common case: a path of plain bytes, valid as it is
	}
	st := newURIState(s)
	for i := 0; i < len(s); i++ {
		if n := st.keep(s, i); n > 0 {
			i += n - 1
			continue
		}
		// The first byte to escape: copy what came before, then go on
		// escaping into a builder.
		var b strings.Builder
		b.Grow(len(s) + 8)
		b.WriteString(s[:i])
		for ; i < len(s); i++ {
			if n := st.keep(s, i); n > 0 {
				b.WriteString(s[i : i+n])
				i += n - 1
				continue
			}
			const hexUpper = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hexUpper[s[i]>>4])
			b.WriteByte(hexUpper[s[i]&0xF])
		}
		return b.String()
	}
	return s
}

// uriPlain marks the bytes that are valid anywhere in a URI reference:
// unreserved, sub-delims, "/", "?" and "@". (":", "#", "%" and brackets
// are valid only in some places.)
var uriPlain = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=/?@") {
		t[c] = true
	}
	return t
}()

// uriState is what escaping needs to know about a reference's parts.
type uriState struct {
	noColon            int // colons before this index would read as a bad scheme's
	authStart, authEnd int // the authority, where brackets may stand
	breakSlash         int // index of a "/" to escape so that "//" starts no authority, or -1
	fragment           int // index of the first "#", or -1
}

func newURIState(s string) uriState {
	st := uriState{authStart: -1, breakSlash: -1, fragment: strings.IndexByte(s, '#')}
	rest := 0
	if i := strings.IndexAny(s, ":/?#"); i >= 0 && s[i] == ':' {
		if isScheme(s[:i]) {
			rest = i + 1
		} else {
			// Not a scheme: the first segment of a relative reference
			// may hold no colon at all (path-noscheme).
			st.noColon = len(s)
			if j := strings.IndexAny(s, "/?#"); j >= 0 {
				st.noColon = j
			}
		}
	}
	if strings.HasPrefix(s[rest:], "//") {
		start, end := rest+2, len(s)
		if j := strings.IndexAny(s[start:], "/?#"); j >= 0 {
			end = start + j
		}
		if validAuthority(s[:end], s[start:end]) {
			st.authStart, st.authEnd = start, end
		} else {
			// An authority no parser would take: escaping the second
			// slash makes the rest a path, whose bytes can be escaped.
			st.breakSlash = start - 1
		}
	}
	return st
}

// validAuthority reports whether authority, the end of prefix (a scheme
// and "//", or just "//"), is one that url.Parse accepts. Plain host
// names with an optional port are told without parsing.
func validAuthority(prefix, authority string) bool {
	host, port, _ := strings.Cut(authority, ":")
	plain := host != ""
	for i := 0; i < len(host) && plain; i++ {
		c := host[i]
		plain = isAlpha(c) || '0' <= c && c <= '9' || c == '-' || c == '.'
	}
	for i := 0; i < len(port) && plain; i++ {
		plain = '0' <= port[i] && port[i] <= '9'
	}
	if plain {
		return true
	}
	for i := 0; i < len(authority); i++ {
		if c := authority[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`"<>\^`+"`{|}", c) >= 0 {
			return false
		}
	}
	if strings.ContainsAny(authority, "[]") {
		// Brackets only enclose an IP literal host: [v6]:port.
		userinfo, host, found := strings.Cut(authority, "@")
		if !found {
			host, userinfo = userinfo, ""
		}
		end := strings.IndexByte(host, ']')
		if strings.ContainsAny(userinfo, "[]") || !strings.HasPrefix(host, "[") || end < 0 ||
			strings.Count(host, "[") != 1 || strings.Count(host, "]") != 1 ||
			(end+1 < len(host) && host[end+1] != ':') {
			return false
		}
	}
	_, err := url.Parse(prefix)
	return err == nil
}

// keep returns how many bytes at s[i] may stay as they are: 3 for a valid
// percent-escape, 1 for an allowed byte, 0 for a byte to escape.
func (st *uriState) keep(s string, i int) int {
	c := s[i]
	switch {
	case c == ':' && i < st.noColon, i == st.breakSlash:
		return 0
	case c == '%':
		if i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			return 3
		}
		return 0
	case c == '#':
		if i == st.fragment {
			return 1
		}
		return 0
	case c == '[' || c == ']':
		if i >= st.authStart && i < st.authEnd {
			return 1
		}
		return 0
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return 1
	case strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0:
		return 1
	}
	return 0
}

// isScheme reports whether s is an RFC 3986 scheme: a letter, then
// letters, digits, "+", "-" and ".".
func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
