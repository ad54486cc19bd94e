package middleware

import (
	"strings"
	"testing"

	"github.com/virtuheal/apierrors/status"
)

func TestNegotiateLanguage(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", "en"},
		{"fr", "fr"},
		{"fr-CA", "fr"},
		{"FR", "fr"},
		{"de-DE,de;q=0.9", "de"},
		{"pt-BR", "pt_BR"},
		{"pt_br", "pt_BR"},
		{"pt", "pt_BR"},
		{"pt-PT", "pt_BR"},
		{"ja-JP", "ja"},
		{"es-419", "es"},
		{"it, fr;q=0.5", "fr"},
		{"fr;q=0.5, de;q=0.8", "de"},
		{"fr;q=0.8, de;q=0.8", "fr"},
		{"fr;q=0, de;q=0.1", "de"},
		{"fr;q=0", "en"},
		{"*", "en"},
		{"*;q=0.5, ja", "ja"},
		{"ja;q=0.4, *;q=0.5", "en"},
		{"zh, ko", "en"},
		{"fr;q=2, de", "de"},
		{"fr;q=abc", "en"},
		{";;;,,,", "en"},
		{strings.Repeat("xx, ", 5000) + "fr", "en"},
		{"en-US,en;q=0.9,fr;q=0.8", "en"},
	}
	for _, tt := range tests {
		if got := negotiateLanguage(tt.header).locale; got != tt.want {
			name := tt.header
			if len(name) > 40 {
				name = name[:40] + "…"
			}
			t.Errorf("negotiateLanguage(%q) = %s, want %s", name, got, tt.want)
		}
	}
}

func TestNegotiateLanguageDoesNotAllocate(t *testing.T) {
	if a := testing.AllocsPerRun(100, func() { negotiateLanguage("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5") }); a != 0 {
		t.Errorf("allocates %v times", a)
	}
}

// TestTitlesCoverEveryErrorCode fails when a documented 4xx or 5xx code
// lacks a title in a supported language, or a translation names a code
// the table lacks.
func TestTitlesCoverEveryErrorCode(t *testing.T) {
	for i := range languages {
		l := &languages[i]
		if l.locale == "en" {
			continue
		}
		for _, c := range status.All() {
			if !c.IsError() {
				continue
			}
			if title, ok := l.titles[c]; !ok || title == "" || title == c.Title() {
				t.Errorf("%s: no translated title for %v", l.locale, c)
			}
		}
		for c := range l.titles {
			if _, ok := status.Lookup(int(c)); !ok || !c.IsError() {
				t.Errorf("%s: title for %d, which is no documented error code", l.locale, c)
			}
		}
	}
	if got := languages[0].title(status.NotFound); got != "Not Found" {
		t.Errorf("English title = %q", got)
	}
}

func FuzzNegotiateLanguage(f *testing.F) {
	for _, s := range []string{"fr-CH, fr;q=0.9", "*", "pt_BR;q=0.1", "\xff;q=1", ",;q="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		l := negotiateLanguage(h)
		if l == nil || l.header == nil {
			t.Fatalf("negotiateLanguage(%q) returned no language", h)
		}
	})
}
