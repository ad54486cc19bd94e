package middleware

import (
	"strconv"
	"testing"

	"github.com/go-playground/validator/v10"

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

// TestListCacheIsBounded does the same for the cache of whole lists.
func TestListCacheIsBounded(t *testing.T) {
	v := NewValidator()
	key := func(i int) listKey { return listKey{failures: "T.F" + strconv.Itoa(i)} }
	list := problem.EncodeErrors([]problem.FieldError{{Detail: "d", Pointer: "#/f"}})
	for i := range maxCachedLists + 100 {
		v.storeList(key(i), list)
	}
	if n := len(v.lists); n != maxCachedLists {
		t.Errorf("%d lists counted, want %d", n, maxCachedLists)
	}
	if _, ok := v.lists[key(maxCachedLists-1)]; !ok {
		t.Error("the last list within the bound was not kept")
	}
	if _, ok := v.lists[key(maxCachedLists)]; ok {
		t.Error("a list past the bound was kept")
	}
	if err := v.RegisterMessages("custom", map[string]string{"en": "{0} is custom"}); err != nil {
		t.Fatal(err)
	}
	if len(v.lists) != 0 {
		t.Error("registering messages left cached lists")
	}
}

// TestAppendFailures checks the key of the list cache: lists that differ
// in any namespace, rule or parameter, or in order, have different keys;
// lists with a field in a list or map are not cached.
func TestAppendFailures(t *testing.T) {
	type form struct {
		A    string   `json:"a" validate:"required,min=2"`
		AB   string   `json:"ab" validate:"required"`
		Tags []string `json:"tags" validate:"dive,min=3"`
	}
	v := NewValidator()
	failures := func(f form) validator.ValidationErrors {
		t.Helper()
		err := v.Validate(&f)
		if err == nil {
			t.Fatalf("%+v passed", f)
		}
		return err.(*validationError).errs
	}
	key := func(errs validator.ValidationErrors) string {
		t.Helper()
		b, ok := appendFailures(nil, errs)
		if !ok {
			t.Fatalf("failures %v not cacheable", errs)
		}
		return string(b)
	}
	both := failures(form{})                 // a: required, ab: required
	short := failures(form{A: "x", AB: "y"}) // a: min=2
	reversed := validator.ValidationErrors{both[1], both[0]}
	keys := map[string]string{}
	for name, errs := range map[string]validator.ValidationErrors{
		"both": both, "reversed": reversed, "a only": both[:1], "ab only": both[1:], "short": short,
	} {
		k := key(errs)
		if other, taken := keys[k]; taken {
			t.Errorf("%s and %s have the same key %q", name, other, k)
		}
		keys[k] = name
	}
	if k := key(both); k != key(failures(form{})) {
		t.Error("the same failures have different keys")
	}
	if _, ok := appendFailures(nil, failures(form{A: "xx", AB: "y", Tags: []string{"x"}})); ok {
		t.Error("a failure inside a list was cacheable")
	}
}

// failure is a validator.FieldError with only what appendFailures reads.
type failure struct {
	validator.FieldError
	ns, tag, param string
}

func (f failure) StructNamespace() string { return f.ns }
func (f failure) Tag() string             { return f.tag }
func (f failure) Param() string           { return f.param }

// TestAppendFailuresKeepsStringsApart checks that failures whose strings
// run together alike still have different keys, and that long lists are
// not cached.
func TestAppendFailuresKeepsStringsApart(t *testing.T) {
	lists := []validator.ValidationErrors{
		{failure{ns: "T.A", tag: "bc"}},
		{failure{ns: "T.Ab", tag: "c"}},
		{failure{ns: "T.A", tag: "b", param: "c"}},
		{failure{ns: "T.A", tag: "b"}, failure{ns: "c"}},
	}
	long := make(validator.ValidationErrors, maxCachedListLen+1)
	for i := range long {
		long[i] = failure{ns: "T.F" + strconv.Itoa(i), tag: "required"}
	}
	if _, ok := appendFailures(nil, long[:maxCachedListLen]); !ok {
		t.Errorf("a list of %d failures was not cacheable", maxCachedListLen)
	}
	if _, ok := appendFailures(nil, long); ok {
		t.Errorf("a list of %d failures was cacheable", len(long))
	}
	seen := map[string]int{}
	for i, errs := range lists {
		b, ok := appendFailures(nil, errs)
		if !ok {
			t.Fatalf("list %d not cacheable", i)
		}
		if j, taken := seen[string(b)]; taken {
			t.Errorf("lists %d and %d have the same key %q", j, i, b)
		}
		seen[string(b)] = i
	}
}
