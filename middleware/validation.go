package middleware

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/go-playground/locales/de"
	"github.com/go-playground/locales/en"
	"github.com/go-playground/locales/es"
	"github.com/go-playground/locales/fr"
	"github.com/go-playground/locales/ja"
	"github.com/go-playground/locales/pt_BR"
	ut "github.com/go-playground/universal-translator"
	"github.com/go-playground/validator/v10"
	detrans "github.com/go-playground/validator/v10/translations/de"
	entrans "github.com/go-playground/validator/v10/translations/en"
	estrans "github.com/go-playground/validator/v10/translations/es"
	frtrans "github.com/go-playground/validator/v10/translations/fr"
	jatrans "github.com/go-playground/validator/v10/translations/ja"
	ptbrtrans "github.com/go-playground/validator/v10/translations/pt_BR"

	"github.com/virtuheal/apierrors/problem"
)

// Validator is an echo.Validator backed by validator/v10. Fields are named
// by their json, query, param, header or form tag, so that every message
// and pointer speaks of what the client sent, and messages are translated
// into each supported language (en, fr, de, es, pt_BR and ja).
//
// Validate reports every failed field at once. The middleware turns the
// failure into a 422 problem with one "errors" entry per field: a JSON
// Pointer for body fields, or the parameter or header name.
type Validator struct {
	validate    *validator.Validate
	translators [len(languages)]ut.Translator
	locations   sync.Map // reflect.Type → map[string]location

	// The caches: lists holds whole lists of entries, encoded; entries
	// single entries; messages the phrased failures of fields in lists.
	// Phrasing allocates, and depends only on what the keys hold.
	mu       sync.RWMutex
	lists    map[listKey]*problem.EncodedErrors
	entries  map[entryKey]problem.FieldError
	messages map[messageKey]string
}

type messageKey struct {
	lang              int
	tag, field, param string
}

// Bounds on the caches. Fields of a struct are few, and names that hold
// client-chosen map keys are not cached at all. Which fields fail
// together is the client's choice, so lists are bounded in number and in
// length.
const (
	maxCachedMessages = 4096
	maxCachedEntries  = 4096
	maxCachedLists    = 1024
	maxCachedListLen  = 16
)

// NewValidator returns a Validator with validator/v10's built-in rules and
// their translations registered.
func NewValidator() *Validator {
	v := &Validator{validate: validator.New(
		validator.WithRequiredStructEnabled(),
		validator.WithTagNameFuncBlankOmit(), // embedded structs add no pointer segment
	)}
	v.validate.RegisterTagNameFunc(fieldName)

	uni := ut.New(en.New(), en.New(), fr.New(), de.New(), es.New(), pt_BR.New(), ja.New())
	register := [len(languages)]func(*validator.Validate, ut.Translator) error{
		entrans.RegisterDefaultTranslations,
		frtrans.RegisterDefaultTranslations,
		detrans.RegisterDefaultTranslations,
		estrans.RegisterDefaultTranslations,
		ptbrtrans.RegisterDefaultTranslations,
		jatrans.RegisterDefaultTranslations,
	}
	for i := range languages {
		t, found := uni.GetTranslator(languages[i].locale)
		if !found {
			panic("apierrors/middleware: no locale for " + languages[i].locale)
		}
		// Each Validator has its own translators: sharing one between two
		// validator instances fails with a conflicting-key error.
		if err := register[i](v.validate, t); err != nil {
			panic(fmt.Sprintf("apierrors/middleware: %s translations: %v", languages[i].locale, err))
		}
		v.translators[i] = t
	}
	return v
}

// Engine returns the underlying validator/v10 instance, for registering
// custom rules with RegisterValidation and the like.
func (v *Validator) Engine() *validator.Validate { return v.validate }

// Validate implements echo.Validator.
func (v *Validator) Validate(i any) error {
	err := v.validate.Struct(i)
	errs, ok := err.(validator.ValidationErrors)
	if !ok {
		return err // nil, or InvalidValidationError: a programming error
	}
	return &validationError{err: err, errs: errs, v: v, root: reflect.TypeOf(i)}
}

// RegisterMessages adds messages for a validation rule, such as a custom
// rule registered on Engine. messages maps a language ("en", "fr", "de",
// "es", "pt_BR" or "ja") to its message, in which {0} stands for the field
// name and {1} for the rule's parameter. A language without a message
// falls back to a generic one.
func (v *Validator) RegisterMessages(tag string, messages map[string]string) error {
	for lang, msg := range messages {
		l, ok := lookupLanguage(lang)
		if !ok {
			return fmt.Errorf("apierrors/middleware: unsupported language %q", lang)
		}
		err := v.validate.RegisterTranslation(tag, v.translators[l.index()],
			func(t ut.Translator) error { return t.Add(tag, msg, true) },
			func(t ut.Translator, fe validator.FieldError) string {
				s, _ := t.T(tag, fe.Field(), fe.Param())
				return s
			})
		if err != nil {
			return fmt.Errorf("apierrors/middleware: %s message for %q: %w", lang, tag, err)
		}
	}
	v.mu.Lock()
	clear(v.messages) // phrased without these: stale
	clear(v.entries)
	clear(v.lists)
	v.mu.Unlock()
	return nil
}

// validationError is what Validator.Validate returns: the failures, and
// the Validator whose translators can phrase them. It unwraps to
// validator.ValidationErrors for services that inspect failures.
type validationError struct {
	err  error // errs as the error validator returned, boxed once
	errs validator.ValidationErrors
	v    *Validator
	root reflect.Type
}

func (e *validationError) Error() string { return e.err.Error() }
func (e *validationError) Unwrap() error { return e.err }

// nameTags are the struct tags that name a field, in order of preference:
// the body's, then Echo's binding tags.
var nameTags = [...]string{"json", "query", "param", "header", "form"}

// fieldName names a field for messages and namespaces. An untagged
// embedded struct gets no name, so its fields sit at its parent's level,
// as encoding/json flattens them.
func fieldName(f reflect.StructField) string {
	for _, tag := range nameTags {
		name, _, _ := strings.Cut(f.Tag.Get(tag), ",")
		if name != "" && name != "-" {
			return name
		}
	}
	if f.Anonymous {
		return ""
	}
	return f.Name
}

// A location says where a top-level field came from.
type location struct {
	in   string // "query", "param" or "header"; "" for the body
	name string
}

// fieldLocations returns where each top-level field of root comes from:
// query, path and header parameters are bound from top-level fields tagged
// for them. It is computed once per type.
func (v *Validator) fieldLocations(root reflect.Type) map[string]location {
	root = deref(root)
	if v == nil || root == nil || root.Kind() != reflect.Struct {
		return nil
	}
	cached, ok := v.locations.Load(root)
	if !ok {
		cached, _ = v.locations.LoadOrStore(root, topLevelLocations(root))
	}
	return cached.(map[string]location)
}

// locationOf finds in fields where the failed field came from.
func locationOf(fields map[string]location, structNamespace string) location {
	if fields == nil {
		return location{}
	}
	_, path, _ := strings.Cut(structNamespace, ".") // drop the root type's name
	for {
		end := strings.IndexAny(path, ".[")
		if end < 0 {
			end = len(path)
		}
		loc := fields[path[:end]]
		if loc.in != "embedded" || end == len(path) {
			return loc
		}
		path = path[end+1:] // the field is promoted from an embedded struct
	}
}

// topLevelLocations maps the Go names of root's fields, including those
// promoted from embedded structs, to their location. The names of the
// embedded structs themselves map to "embedded".
func topLevelLocations(root reflect.Type) map[string]location {
	m := map[string]location{}
	var add func(t reflect.Type, depth int)
	add = func(t reflect.Type, depth int) {
		var embedded []reflect.Type
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if _, taken := m[f.Name]; taken {
				continue // shadowed by a shallower field, as in Go
			}
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if f.Anonymous && ft.Kind() == reflect.Struct && fieldName(f) == "" {
				m[f.Name] = location{in: "embedded"}
				embedded = append(embedded, ft)
				continue
			}
			m[f.Name] = location{}
			for _, in := range [...]string{"query", "param", "header"} {
				if name, _, _ := strings.Cut(f.Tag.Get(in), ","); name != "" && name != "-" {
					m[f.Name] = location{in: in, name: name}
					break
				}
			}
		}
		if depth < 4 {
			for _, et := range embedded {
				add(et, depth+1)
			}
		}
	}
	add(root, 0)
	return m
}

// validationErrors is the "errors" extension of o in lang. A list made
// only of fields outside lists and maps depends only on the language, the
// validated type and each failure's field, rule and parameter: it is
// encoded once and cached, so that a form failing the same way again
// costs one lookup. Other lists are built each time.
func validationErrors(o *outcome, lang *language) any {
	v := o.validator
	if v == nil {
		return validationEntries(o, lang)
	}
	var buf [256]byte
	failures, cacheable := appendFailures(append(buf[:0], byte(lang.index())), o.validation)
	if !cacheable {
		return validationEntries(o, lang)
	}
	// The key's string is converted only for the lookup: no allocation.
	v.mu.RLock()
	list, ok := v.lists[listKey{o.rootType, string(failures)}]
	v.mu.RUnlock()
	if ok {
		return list
	}
	list = problem.EncodeErrors(validationEntries(o, lang))
	v.storeList(listKey{o.rootType, string(failures)}, list)
	return list
}

func (v *Validator) storeList(key listKey, list *problem.EncodedErrors) {
	v.mu.Lock()
	defer v.mu.Unlock()
	putBounded(&v.lists, key, list, maxCachedLists)
}

// putBounded stores val under key in *cache, which it makes on first use,
// unless the cache holds bound values already. The caller holds v.mu.
func putBounded[K comparable, V any](cache *map[K]V, key K, val V, bound int) {
	if len(*cache) >= bound {
		return
	}
	if *cache == nil {
		*cache = make(map[K]V)
	}
	(*cache)[key] = val
}

// listKey finds a cached list. The language is the first byte of failures
// rather than a field of its own: Go hashes a key of an interface and a
// string in a third of the time it takes with an int beside them.
type listKey struct {
	root     reflect.Type
	failures string // the language's index, then appendFailures' encoding
}

// appendFailures appends to b what an entry depends on, for each failure
// in order: its Go namespace, rule and parameter, each preceded by its
// length so that no two lists encode alike. ok is false when an entry is
// not cacheable (see isCacheable), and for lists too long to cache.
func appendFailures(b []byte, errs validator.ValidationErrors) (_ []byte, ok bool) {
	if len(errs) > maxCachedListLen {
		return b, false
	}
	for _, fe := range errs {
		ns := fe.StructNamespace()
		if !isCacheable(ns) {
			return b, false
		}
		b = appendWithLength(b, ns)
		b = appendWithLength(b, fe.Tag())
		b = appendWithLength(b, fe.Param())
	}
	return b, true
}

// appendWithLength appends s preceded by its length as a uvarint.
func appendWithLength(b []byte, s string) []byte {
	if len(s) < 0x80 {
		b = append(b, byte(len(s))) // AppendUvarint's one-byte case, without its loop
	} else {
		b = binary.AppendUvarint(b, uint64(len(s)))
	}
	return append(b, s...)
}

// isCacheable reports whether the entry of the failure at structNamespace
// depends only on its type, field, rule and parameter: the entry of a
// field in a list or map holds an index or a key, which the client chose.
func isCacheable(structNamespace string) bool {
	return strings.IndexByte(structNamespace, '[') < 0
}

// validationEntries builds the "errors" extension: one entry per failed
// field, with a message in the negotiated language and never the value.
//
// An entry depends only on the language, the validated type, the field,
// the rule and its parameter, so the entries of fields outside lists and
// maps are cached; the others (whose pointers hold an index or a key) are
// built each time, their pointers cut from one string.
func validationEntries(o *outcome, lang *language) []problem.FieldError {
	v := o.validator
	out := make([]problem.FieldError, len(o.validation))
	var (
		fields   map[string]location
		isRooted bool
		prepared bool
		ptrs     []byte
		spans    [8]struct{ entry, start, end int }
		nspans   int
		far      []struct{ entry, start, end int } // spans past the eighth
		misses   []int                             // cacheable entries built here
	)
	for i, fe := range o.validation {
		var key entryKey
		sns := fe.StructNamespace()
		cacheable := v != nil && isCacheable(sns)
		if cacheable {
			key = entryKey{lang.index(), o.rootType, sns, fe.Tag(), fe.Param()}
			if e, ok := v.cachedEntry(key); ok {
				out[i] = e
				continue
			}
		}
		if !prepared {
			prepared = true
			fields = v.fieldLocations(o.rootType)
			isRooted = o.rootType != nil && rooted(o.rootType, nil)
			size := 0
			for _, fe := range o.validation {
				size += len(fe.Namespace()) + 8
			}
			ptrs = make([]byte, 0, size)
		}
		e := &out[i]
		e.Rule = fe.Tag()
		param, publicParam := v.publicParam(o.rootType, fe)
		if publicParam {
			e.RuleParam = param
		}
		namespace := fe.Namespace()
		switch loc := locationOf(fields, fe.StructNamespace()); {
		case loc.in == "query" || loc.in == "param":
			e.Parameter = loc.name
			namespace = ""
		case loc.in == "header":
			e.Header = loc.name
			namespace = ""
		case isMapKey(o.rootType, fe):
			// The key itself was rejected: point at the map and leave the
			// key, which is the rejected value, out of pointer and detail.
			namespace = namespace[:strings.LastIndexByte(namespace, '[')]
			mapField, _, _ := strings.Cut(fe.Field(), "[")
			e.Detail = strings.Replace(lang.fallback, "{0}", mapField, 1)
		}
		if namespace != "" {
			r := isRooted
			if o.rootType == nil {
				r = rooted(nil, fe) // a foreign validator's error: guess per entry
			}
			start := len(ptrs)
			ptrs = appendPointer(ptrs, namespace, r)
			span := struct{ entry, start, end int }{i, start, len(ptrs)}
			if nspans < len(spans) {
				spans[nspans] = span
				nspans++
			} else {
				far = append(far, span)
			}
		}
		if e.Detail == "" {
			e.Detail = message(v, fe, lang, param, publicParam)
		}
		if cacheable {
			misses = append(misses, i)
		}
	}
	all := string(ptrs)
	for _, sp := range append(spans[:nspans], far...) {
		out[sp.entry].Pointer = all[sp.start:sp.end]
	}
	for _, i := range misses {
		fe := o.validation[i]
		v.storeEntry(entryKey{lang.index(), o.rootType, fe.StructNamespace(), fe.Tag(), fe.Param()}, &out[i])
	}
	return out
}

type entryKey struct {
	lang                 int
	root                 reflect.Type
	structNamespace, tag string
	param                string
}

func (v *Validator) cachedEntry(key entryKey) (problem.FieldError, bool) {
	v.mu.RLock()
	e, ok := v.entries[key]
	v.mu.RUnlock()
	return e, ok
}

// storeEntry caches a copy of e, its pointer cloned out of the request's
// shared string.
func (v *Validator) storeEntry(key entryKey, e *problem.FieldError) {
	c := *e
	c.Pointer = strings.Clone(c.Pointer)
	v.mu.Lock()
	defer v.mu.Unlock()
	putBounded(&v.entries, key, c, maxCachedEntries)
}

// crossFieldRules name other fields in their parameter, by their Go names:
// the parameter is a field (eqfield=Password), a path from the top-level
// struct (eqcsfield=Inner.Field), field and value pairs
// (required_if=Kind card), or a list of fields (required_with=A B).
var crossFieldRules = map[string]string{
	"eqfield": "field", "nefield": "field", "gtfield": "field", "gtefield": "field",
	"ltfield": "field", "ltefield": "field", "fieldcontains": "field", "fieldexcludes": "field",
	"eqcsfield": "path", "necsfield": "path", "gtcsfield": "path", "gtecsfield": "path",
	"ltcsfield": "path", "ltecsfield": "path",
	"required_if": "pairs", "required_unless": "pairs", "excluded_if": "pairs",
	"excluded_unless": "pairs", "skip_unless": "pairs",
	"required_with": "list", "required_with_all": "list", "required_without": "list",
	"required_without_all": "list", "excluded_with": "list", "excluded_with_all": "list",
	"excluded_without": "list", "excluded_without_all": "list",
}

// publicParam returns the rule's parameter as the client knows it: Go
// field names in a cross-field rule's parameter become the names the
// client sends. ok is false when a name cannot be translated (errors of a
// foreign validator, say); the parameter must then not be shown.
func (v *Validator) publicParam(root reflect.Type, fe validator.FieldError) (param string, ok bool) {
	kind, crossField := crossFieldRules[fe.Tag()]
	if !crossField {
		return fe.Param(), true
	}
	if v == nil || root == nil {
		return "", false
	}
	parent, _ := goPathType(root, parentPath(fe.StructNamespace()))
	words := strings.Fields(fe.Param())
	for i, w := range words {
		var name string
		switch {
		case kind == "pairs" && i%2 == 1:
			continue // a value from the struct tag, not a field
		case kind == "path":
			name, ok = publicPath(root, w)
		default:
			name, ok = publicName(parent, w)
		}
		if !ok {
			return "", false
		}
		words[i] = name
	}
	return strings.Join(words, " "), true
}

// parentPath drops the root type's name and the failed field from a Go
// namespace: "User.Billing.Zip" → "Billing".
func parentPath(structNamespace string) string {
	_, path, _ := strings.Cut(structNamespace, ".")
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// publicName is the client's name of the Go field goName of struct t.
func publicName(t reflect.Type, goName string) (string, bool) {
	t = deref(t)
	if t == nil || t.Kind() != reflect.Struct {
		return "", false
	}
	f, ok := t.FieldByName(goName)
	if !ok {
		return "", false
	}
	return fieldName(f), true
}

// publicPath translates a dotted Go path from the root struct.
func publicPath(root reflect.Type, goPath string) (string, bool) {
	segs := strings.Split(goPath, ".")
	t := root
	for i, seg := range segs {
		name, ok := publicName(t, seg)
		if !ok {
			return "", false
		}
		f, _ := deref(t).FieldByName(seg)
		segs[i], t = name, f.Type
	}
	return strings.Join(segs, "."), true
}

// goPathType follows a Go namespace path such as "Contacts[0].Phone" from
// t: struct fields by name, and the element type for each index.
func goPathType(t reflect.Type, path string) (reflect.Type, bool) {
	for path != "" {
		t = deref(t)
		if path[0] == '[' {
			end := strings.IndexByte(path, ']')
			if end < 0 || t == nil || (t.Kind() != reflect.Slice && t.Kind() != reflect.Array && t.Kind() != reflect.Map) {
				return nil, false
			}
			t, path = t.Elem(), path[end+1:]
		} else {
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			if t == nil || t.Kind() != reflect.Struct {
				return nil, false
			}
			f, ok := t.FieldByName(path[:end])
			if !ok {
				return nil, false
			}
			t, path = f.Type, path[end:]
		}
		path = strings.TrimPrefix(path, ".")
	}
	return t, true
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// isMapKey reports whether fe is about a map key (a "dive,keys" rule)
// rather than a value: its namespace ends in the key, and the failed value
// is that key, in a container that is a map. Without the root type (a
// foreign validator), the first two tests decide.
func isMapKey(root reflect.Type, fe validator.FieldError) bool {
	ns, sns := fe.Namespace(), fe.StructNamespace()
	open := strings.LastIndexByte(ns, '[')
	if open < 0 || !strings.HasSuffix(ns, "]") || fmt.Sprint(fe.Value()) != ns[open+1:len(ns)-1] {
		return false
	}
	if root == nil {
		return true
	}
	_, path, _ := strings.Cut(sns, ".")
	if i := strings.LastIndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	container, ok := goPathType(root, path)
	return !ok || deref(container).Kind() == reflect.Map
}

// rooted reports whether a namespace starts with the name of the
// validated struct type. Unnamed struct types add no segment. Without the
// type (a foreign validator), a top-level field of an unnamed struct is
// told by its namespace being just the field.
func rooted(root reflect.Type, fe validator.FieldError) bool {
	if root == nil && fe != nil {
		return fe.Namespace() != fe.Field()
	}
	return deref(root).Name() != ""
}

// message phrases one failure. A cross-field rule is phrased with the
// parameter the client knows (param); without one, or without a
// translation (a custom rule, or errors from a validator other than
// ours), it uses the language's generic message: validator's own Error()
// names Go types and fields.
func message(v *Validator, fe validator.FieldError, lang *language, param string, publicParam bool) string {
	if v == nil || !publicParam {
		return strings.Replace(lang.fallback, "{0}", fe.Field(), 1)
	}
	key := messageKey{lang.index(), fe.Tag(), fe.Field(), param}
	v.mu.RLock()
	msg, ok := v.messages[key]
	v.mu.RUnlock()
	if ok {
		return msg
	}
	t := v.translators[key.lang]
	switch {
	case param != fe.Param():
		if m, err := t.T(fe.Tag(), fe.Field(), param); err == nil && m != "" {
			msg = m
		}
	default:
		if m := fe.Translate(t); !strings.HasPrefix(m, "Key: '") {
			msg = m
		}
	}
	if msg == "" {
		msg = strings.Replace(lang.fallback, "{0}", fe.Field(), 1)
	}
	if !strings.Contains(key.field, "[") { // a map key or index: the client's, unbounded
		v.mu.Lock()
		putBounded(&v.messages, key, msg, maxCachedMessages)
		v.mu.Unlock()
	}
	return msg
}
