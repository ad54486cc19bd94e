package middleware

import (
	"strconv"
	"testing"

	"github.com/virtuheal/apierrors/problem"
)

// TestEntryCacheIsBounded fills the entry cache past its bound: the
// entries past it are not kept, and registering messages empties it.
func TestEntryCacheIsBounded(t *testing.T) {
	v := NewValidator()
	key := func(i int) entryKey { return entryKey{structNamespace: "T.F" + strconv.Itoa(i), tag: "required"} }
	for i := range maxCachedEntries + 100 {
		v.storeEntry(key(i), &problem.FieldError{Detail: "d", Pointer: "#/f"})
	}
	if n := len(v.entries); n != maxCachedEntries {
		t.Errorf("%d entries counted, want %d", n, maxCachedEntries)
	}
	if _, ok := v.cachedEntry(key(maxCachedEntries - 1)); !ok {
		t.Error("the last entry within the bound was not kept")
	}
	if _, ok := v.cachedEntry(key(maxCachedEntries)); ok {
		t.Error("an entry past the bound was kept")
	}
	if err := v.RegisterMessages("custom", map[string]string{"en": "{0} is custom"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.cachedEntry(key(0)); ok || len(v.entries) != 0 {
		t.Error("registering messages left cached entries")
	}
}
