package problem

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"unicode/utf8"
)

// AppendJSON appends the JSON encoding of p to b and returns the extended
// buffer. It is what MarshalJSON produces, without its allocation.
//
// The standard members come first, in the order of RFC 9457's examples;
// type is always present (BlankType when empty) and the others are left
// out when empty. type and instance go through EscapeURIReference, so
// they are valid URI references whatever they hold. Extensions follow in
// key order. Strings are escaped exactly as encoding/json escapes them, so
// the output is byte-identical to encoding/json's for the same members.
//
// It fails only when an extension value cannot be encoded (a channel, a
// NaN, a cycle); b is then returned unextended.
func (p *Problem) AppendJSON(b []byte) ([]byte, error) {
	start := len(b)
	b = appendHead(b, p.Type, p.Title, p.Status)
	b = appendDetail(b, p.Detail)
	b, err := appendTail(b, p.Instance, p.Extensions)
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// MarshalJSON implements json.Marshaler.
func (p *Problem) MarshalJSON() ([]byte, error) {
	return p.AppendJSON(nil)
}

// A Template is the JSON encoding of the members of a problem that stay
// the same from one occurrence to the next (type, title, status and a
// default detail), made once. Encoding an occurrence then costs only its
// own members, which matters when errors are a large share of traffic.
type Template struct {
	head   []byte // {"type":…,"title":…,"status":…
	detail []byte // ,"detail":… or nothing
}

// Template returns p's type, title, status and detail, encoded. Its
// Instance and Extensions play no part.
func (p *Problem) Template() *Template {
	return &Template{
		head:   appendHead(nil, p.Type, p.Title, p.Status),
		detail: appendDetail(nil, p.Detail),
	}
}

// AppendJSON appends the problem made of t's members and the given ones to
// b: detail replaces the default detail unless empty. The bytes are the
// same as (*Problem).AppendJSON's for that problem.
func (t *Template) AppendJSON(b []byte, detail, instance string, extensions map[string]any) ([]byte, error) {
	start := len(b)
	b = append(b, t.head...)
	if detail == "" {
		b = append(b, t.detail...)
	} else {
		b = appendDetail(b, detail)
	}
	b, err := appendTail(b, instance, extensions)
	if err != nil {
		return b[:start], err
	}
	return b, nil
}

// appendHead opens the object with the members every problem of one type
// shares.
func appendHead(b []byte, typ, title string, status int) []byte {
	if typ == "" {
		typ = BlankType
	}
	b = append(b, `{"type":`...)
	b = appendURIReference(b, typ)
	if title != "" {
		b = append(b, `,"title":`...)
		b = appendString(b, title)
	}
	if status != 0 {
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(status), 10)
	}
	return b
}

func appendDetail(b []byte, detail string) []byte {
	if detail == "" {
		return b
	}
	b = append(b, `,"detail":`...)
	return appendString(b, detail)
}

// appendURIReference appends s, escaped by EscapeURIReference, as a JSON
// string: in one pass over s when, as usual, neither needs to escape.
func appendURIReference(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainURIJSON[s[i]] {
			return appendString(b, EscapeURIReference(s))
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainURIJSON marks the bytes that neither EscapeURIReference nor a JSON
// string escapes.
var plainURIJSON = func() (t [256]bool) {
	for c := range utf8.RuneSelf {
		t[c] = uriPlain[c] && safeASCII[c]
	}
	return t
}()

// appendTail adds the occurrence's members and closes the object.
func appendTail(b []byte, instance string, extensions map[string]any) ([]byte, error) {
	if instance != "" {
		b = append(b, `,"instance":`...)
		b = appendURIReference(b, instance)
	}
	if len(extensions) > 0 {
		var err error
		if b, err = appendExtensions(b, extensions); err != nil {
			return b, err
		}
	}
	return append(b, '}'), nil
}

func appendExtensions(b []byte, ext map[string]any) ([]byte, error) {
	var small [8]string
	keys := small[:0]
	for k := range ext {
		if !isStandard(k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = append(b, ',')
		b = appendString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendValue(b, ext[k]); err != nil {
			return b, err
		}
	}
	return b, nil
}

// appendValue encodes an extension value. Strings and validation errors,
// the values the middleware adds to every kind of problem, take a fast
// path; anything else goes through encoding/json.
func appendValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return appendString(b, v), nil
	case []FieldError:
		return appendFieldErrors(b, v), nil
	case *EncodedErrors:
		if v == nil {
			return append(b, "null"...), nil
		}
		return append(b, v.json...), nil
	case nil:
		return append(b, "null"...), nil
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, enc...), nil
}

func appendFieldErrors(b []byte, errs []FieldError) []byte {
	if errs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, e := range errs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"detail":`...)
		b = appendString(b, e.Detail)
		b = appendMember(b, "pointer", e.Pointer)
		b = appendMember(b, "parameter", e.Parameter)
		b = appendMember(b, "header", e.Header)
		b = appendMember(b, "rule", e.Rule)
		b = appendMember(b, "param", e.RuleParam)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendMember appends ,"name":"value" unless value is empty; name must
// need no escaping.
func appendMember(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, value)
}

const hex = "0123456789abcdef"

// safeASCII marks the ASCII bytes a JSON string holds unescaped under
// encoding/json's default, HTML-safe rules.
var safeASCII = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string, escaped as encoding/json does
// by default: quotes, backslashes and control characters, the HTML
// characters <, > and &, U+2028 and U+2029, and invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// errNotObject is returned for JSON that is valid but not an object.
var errNotObject = errors.New("problem: JSON value is not an object")

// UnmarshalJSON implements json.Unmarshaler. It follows RFC 9457 §3.1: a
// standard member whose JSON type is wrong is ignored, as if absent; an
// absent type means BlankType; every other member becomes an extension,
// with numbers kept exactly as json.Number.
func (p *Problem) UnmarshalJSON(data []byte) error {
	_, err := p.decodeJSON(data)
	return err
}

// decodeJSON decodes data into p and reports how many standard members
// it found with the right type.
func (p *Problem) decodeJSON(data []byte) (standard int, err error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return 0, err
	}
	if members == nil {
		return 0, errNotObject
	}
	*p = Problem{Type: BlankType}
	for name, raw := range members {
		if !isStandard(name) {
			v, err := decodeAny(raw)
			if err != nil {
				return 0, err
			}
			if p.Extensions == nil {
				p.Extensions = make(map[string]any)
			}
			p.Extensions[name] = v
			continue
		}
		if string(raw) == "null" {
			continue // null is no string or number: ignored too
		}
		if name == "status" {
			if p.setMember(name, string(raw)) { // a JSON integer, as text
				standard++
			}
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil && p.setMember(name, s) {
			standard++
		} // else the wrong type: ignored, RFC 9457 §3.1
	}
	return standard, nil
}

func decodeAny(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
