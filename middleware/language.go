package middleware

import (
	"strings"

	"github.com/virtuheal/apierrors/internal/accept"
	"github.com/virtuheal/apierrors/status"
)

// A language is one the problems can be written in: the titles of the
// error codes and the validation messages follow Accept-Language. The
// detail stays the documented English description, since the document is
// the contract.
type language struct {
	idx      int      // position in languages, set by init
	locale   string   // universal-translator locale, such as "pt_BR"
	header   []string // Content-Language value, such as "pt-BR"; shared, never modified
	titles   map[status.Code]string
	fallback string // validation message for a rule without a translation; {0} is the field
}

// languages lists the supported languages; the first is the default.
var languages = [...]language{
	{locale: "en", header: []string{"en"}, fallback: "{0} is not valid"},
	{locale: "fr", header: []string{"fr"}, titles: titlesFR, fallback: "{0} n'est pas valide"},
	{locale: "de", header: []string{"de"}, titles: titlesDE, fallback: "{0} ist ungültig"},
	{locale: "es", header: []string{"es"}, titles: titlesES, fallback: "{0} no es válido"},
	{locale: "pt_BR", header: []string{"pt-BR"}, titles: titlesPTBR, fallback: "{0} não é válido"},
	{locale: "ja", header: []string{"ja"}, titles: titlesJA, fallback: "{0}は無効です"},
}

func init() {
	for i := range languages {
		languages[i].idx = i // derived here, so that reordering cannot break it
	}
}

// title returns the code's title in the language: the documented title
// for English and for any code without a translation.
func (l *language) title(c status.Code) string {
	if t, ok := l.titles[c]; ok {
		return t
	}
	return c.Title()
}

// index returns l's position in languages, which indexes the tables of
// per-language values.
func (l *language) index() int { return l.idx }

// lookupLanguage finds a supported language by a language tag or locale,
// case-insensitively and with "-" or "_": "pt-BR", "pt_br" and "pt" all
// find pt_BR, and "fr-CA" finds fr.
func lookupLanguage(tag string) (*language, bool) {
	if strings.Contains(tag, "_") {
		tag = strings.ReplaceAll(tag, "_", "-")
	}
	for i := range languages {
		if strings.EqualFold(languages[i].header[0], tag) {
			return &languages[i], true
		}
	}
	primary, _, _ := strings.Cut(tag, "-")
	for i := range languages {
		if p, _, _ := strings.Cut(languages[i].header[0], "-"); strings.EqualFold(p, primary) {
			return &languages[i], true
		}
	}
	return nil, false
}

// negotiateLanguage picks the supported language the client weighs
// highest (RFC 9110 §12.5.4): the first of equal weights wins, "*" means
// the default, q=0 excludes, and malformed ranges are skipped. Without a
// match it returns the default, English.
func negotiateLanguage(header string) *language {
	best, bestQ := &languages[0], 0
	for s := accept.NewScanner(header); ; {
		tag, _, q, ok := s.Next()
		if !ok {
			return best
		}
		if q <= bestQ {
			continue
		}
		if tag == "*" {
			best, bestQ = &languages[0], q
		} else if l, ok := lookupLanguage(tag); ok {
			best, bestQ = l, q
		}
	}
}
