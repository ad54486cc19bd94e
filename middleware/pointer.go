package middleware

import "strings"

// jsonPointer converts a validator namespace, such as
// "Patient.contacts[0].phone" or `Patient.meta[a.b/c]`, into an RFC 6901
// JSON Pointer in the URI fragment form of RFC 9457's example:
// "#/contacts/0/phone", "#/meta/a.b~1c".
//
// When rooted, the first segment is the name of the validated struct type
// and is dropped (an unnamed struct type adds no segment). Map keys may
// hold "." and "/", so keys are read up to the "]" that ends them, not
// split on dots; "~" and "/" are escaped as "~0" and "~1", and bytes a URI
// fragment cannot hold are percent-encoded.
func jsonPointer(namespace string, rooted bool) string {
	return string(appendPointer(nil, namespace, rooted))
}

// appendPointer appends jsonPointer's result to b.
func appendPointer(b []byte, namespace string, rooted bool) []byte {
	rest := namespace
	if rooted {
		i := strings.IndexAny(rest, ".[")
		if i < 0 {
			return append(b, '#')
		}
		if rest[i] == '.' {
			i++
		}
		rest = rest[i:]
	}
	b = append(b, '#')
	for rest != "" {
		var seg string
		if rest[0] == '[' {
			if end := closingBracket(rest); end > 0 {
				seg, rest = rest[1:end], rest[end+1:]
			} else {
				seg, rest = rest[1:], "" // unterminated: the rest is the key
			}
		} else {
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			seg, rest = rest[:end], rest[end:]
		}
		rest = strings.TrimPrefix(rest, ".")
		b = append(b, '/')
		b = appendToken(b, seg)
	}
	return b
}

// closingBracket returns the index of the "]" that closes the key opened
// at s[0]: the first one followed by ".", "[" or the end. A key may itself
// contain "]".
func closingBracket(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i] == ']' && (i+1 == len(s) || s[i+1] == '.' || s[i+1] == '[') {
			return i
		}
	}
	return -1
}

// appendToken appends a reference token, escaped for JSON Pointer and
// then for a URI fragment (RFC 3986 §3.5: pchar, "/" and "?").
func appendToken(b []byte, tok string) []byte {
	const hexUpper = "0123456789ABCDEF"
	for i := 0; i < len(tok); i++ {
		switch c := tok[i]; {
		case c == '~':
			b = append(b, '~', '0')
		case c == '/':
			b = append(b, '~', '1')
		case isFragmentByte(c):
			b = append(b, c)
		default:
			b = append(b, '%', hexUpper[c>>4], hexUpper[c&0xF])
		}
	}
	return b
}

// isFragmentByte reports whether c may appear unescaped in a URI
// fragment: unreserved, sub-delims, ":", "@", "/" and "?" (RFC 3986 §3.5).
func isFragmentByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0
}
