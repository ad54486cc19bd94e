package problem

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Namespace is the XML namespace of the problem element. RFC 9457 keeps
// RFC 7807's URN.
const Namespace = "urn:ietf:rfc:7807"

// maxXMLDepth bounds the nesting Parse accepts in an XML problem.
const maxXMLDepth = 256

var errXMLTooDeep = errors.New("problem: XML nested too deeply")

// MarshalXML implements xml.Marshaler with the format of RFC 9457
// Appendix B: a <problem> element in the urn:ietf:rfc:7807 namespace,
// objects as child elements, arrays as <i> children. Extensions whose
// names are not XML names (or start with "xml") cannot be expressed and
// are left out, as are such keys inside extension objects.
func (p *Problem) MarshalXML(e *xml.Encoder, _ xml.StartElement) error {
	root := xml.StartElement{Name: xml.Name{Space: Namespace, Local: "problem"}}
	if err := e.EncodeToken(root); err != nil {
		return err
	}
	typ := p.Type
	if typ == "" {
		typ = BlankType
	}
	members := []struct{ name, value string }{
		{"type", EscapeURIReference(typ)},
		{"title", p.Title},
		{"status", statusText(p.Status)},
		{"detail", p.Detail},
		{"instance", EscapeURIReference(p.Instance)},
	}
	for _, m := range members {
		if m.value != "" {
			if err := encodeXMLValue(e, m.name, m.value); err != nil {
				return err
			}
		}
	}
	if len(p.Extensions) > 0 {
		keys := make([]string, 0, len(p.Extensions))
		for k := range p.Extensions {
			if !isStandard(k) && isXMLName(k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			v, err := generic(p.Extensions[k])
			if err != nil {
				return err
			}
			if err := encodeXMLValue(e, k, v); err != nil {
				return err
			}
		}
	}
	if err := e.EncodeToken(root.End()); err != nil {
		return err
	}
	return e.Flush()
}

func statusText(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// generic turns an extension value into the JSON data model (string,
// json.Number, bool, nil, []any, map[string]any), so that XML encodes
// exactly what JSON would.
func generic(v any) (any, error) {
	switch v.(type) {
	case string, json.Number, bool, nil:
		return v, nil
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeAny(enc)
}

func encodeXMLValue(e *xml.Encoder, name string, v any) error {
	start := xml.StartElement{Name: xml.Name{Local: name}}
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	var err error
	switch v := v.(type) {
	case string:
		err = e.EncodeToken(xml.CharData(v))
	case json.Number:
		err = e.EncodeToken(xml.CharData(v))
	case bool:
		err = e.EncodeToken(xml.CharData(strconv.FormatBool(v)))
	case []any:
		for _, item := range v {
			if err = encodeXMLValue(e, "i", item); err != nil {
				break
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			if isXMLName(k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if err = encodeXMLValue(e, k, v[k]); err != nil {
				break
			}
		}
	}
	if err != nil {
		return err
	}
	return e.EncodeToken(start.End())
}

// isXMLName reports whether s can be an element name: ASCII letters,
// digits, "_", "-" and ".", starting with a letter or "_", and not "xml"
// in any case at the start (reserved). RFC 9457 §4 recommends such names;
// XML allows more, but not every XML reader agrees on which.
func isXMLName(s string) bool {
	if s == "" || strings.HasPrefix(strings.ToLower(s), "xml") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || isAlpha(c):
		case i > 0 && (c == '-' || c == '.' || '0' <= c && c <= '9'):
		default:
			return false
		}
	}
	return true
}

// UnmarshalXML implements xml.Unmarshaler. The root must be a <problem>
// element in the urn:ietf:rfc:7807 namespace (or in none). Elements with
// children become objects, elements whose children are all <i> become
// arrays, and text stays text; a status that is not an integer is ignored.
func (p *Problem) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	_, err := p.decodeXML(d, start)
	return err
}

func (p *Problem) decodeXML(d *xml.Decoder, start xml.StartElement) (standard int, err error) {
	if start.Name.Local != "problem" || (start.Name.Space != Namespace && start.Name.Space != "") {
		return 0, errors.New("problem: XML root is not a problem element")
	}
	*p = Problem{Type: BlankType}
	for {
		tok, err := d.Token()
		if err != nil {
			return 0, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			v, err := decodeXMLValue(d, 1)
			if err != nil {
				return 0, err
			}
			name := t.Name.Local
			if !isStandard(name) {
				if p.Extensions == nil {
					p.Extensions = make(map[string]any)
				}
				p.Extensions[name] = v
				continue
			}
			// An element where text belongs, or a status that is not an
			// integer, is ignored.
			if s, ok := v.(string); ok && p.setMember(name, s) {
				standard++
			}
		case xml.EndElement:
			return standard, nil
		}
	}
}

// decodeXMLValue reads the content of an element whose start tag was just
// read, up to and including its end tag.
func decodeXMLValue(d *xml.Decoder, depth int) (any, error) {
	if depth > maxXMLDepth {
		return nil, errXMLTooDeep
	}
	var text strings.Builder
	var names []string
	var values []any
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			text.Write(t)
		case xml.StartElement:
			v, err := decodeXMLValue(d, depth+1)
			if err != nil {
				return nil, err
			}
			names = append(names, t.Name.Local)
			values = append(values, v)
		case xml.EndElement:
			switch {
			case len(names) == 0:
				return text.String(), nil
			case !slices.ContainsFunc(names, func(n string) bool { return n != "i" }):
				return values, nil
			}
			obj := make(map[string]any, len(names))
			for i, n := range names {
				obj[n] = values[i]
			}
			return obj, nil
		}
	}
}
