package middleware_test

import (
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"

	"github.com/virtuheal/apierrors/middleware"
	"github.com/virtuheal/apierrors/problem"
)

type address struct {
	Street string `json:"street" validate:"required"`
}

type contact struct {
	Name  string `json:"name" validate:"required"`
	Phone string `json:"phone" validate:"required,e164"`
}

type audit struct {
	Reason string `json:"reason" validate:"required"`
}

type signup struct {
	audit                       // embedded: its fields sit at the top level, as in JSON
	Name      string            `json:"name" validate:"required"`
	Email     string            `json:"email" validate:"required,email"`
	Age       int               `json:"age" validate:"gte=0,lte=150"`
	Addresses []address         `json:"addresses" validate:"dive"`
	Contacts  []contact         `json:"contacts" validate:"dive"`
	Labels    map[string]string `json:"labels" validate:"dive,max=5"`
	Internal  string            `json:"-" validate:"omitempty,len=2"`
}

type listParams struct {
	Limit int    `query:"limit" validate:"min=1,max=100"`
	ID    string `param:"id" validate:"len=3"`
	Token string `header:"X-Api-Token" validate:"required"`
}

func signupEcho(t *testing.T) *echo.Echo {
	t.Helper()
	e, _ := newEcho(middleware.Config{})
	e.POST("/signup", bindAndValidate[signup])
	return e
}

func TestValidationEntries(t *testing.T) {
	e := signupEcho(t)
	body := `{"name":"","email":"not-an-email-SECRET","age":-7,"addresses":[{"street":""}],` +
		`"contacts":[{"name":"Ada","phone":"+441234567890"},{"name":"","phone":"12-SECRET"}],` +
		`"labels":{"a.b/c~d":"far-too-long-SECRET"}}`
	w, p := serve(t, e, jsonRequest("POST", "/signup", body))
	if w.Code != 422 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	want := []problem.FieldError{
		{Pointer: "#/reason", Rule: "required"},
		{Pointer: "#/name", Rule: "required"},
		{Pointer: "#/email", Rule: "email"},
		{Pointer: "#/age", Rule: "gte", RuleParam: "0"},
		{Pointer: "#/addresses/0/street", Rule: "required"},
		{Pointer: "#/contacts/1/name", Rule: "required"},
		{Pointer: "#/contacts/1/phone", Rule: "e164"},
		{Pointer: "#/labels/a.b~1c~0d", Rule: "max", RuleParam: "5"},
	}
	got := p.Errors()
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Detail == "" {
			t.Errorf("entry %d has no detail", i)
		}
		got[i].Detail = ""
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if strings.Contains(w.Body.String(), "SECRET") {
		t.Errorf("a rejected value is echoed: %s", w.Body)
	}
	if d := p.Errors()[2].Detail; d != "email must be a valid email address" {
		t.Errorf("English message = %q", d)
	}
}

func TestValidationLanguages(t *testing.T) {
	e := signupEcho(t)
	for lang, want := range map[string]struct{ title, detail, header string }{
		"fr":    {"Entité non traitable", "name est un champ obligatoire", "fr"},
		"de":    {"Nicht verarbeitbare Entität", "name ist ein Pflichtfeld", "de"},
		"es":    {"Entidad no procesable", "name es un campo requerido", "es"},
		"pt-BR": {"Entidade não processável", "name é um campo obrigatório", "pt-BR"},
		"ja":    {"処理できないエンティティ", "nameは必須フィールドです", "ja"},
		"en-GB": {"Unprocessable Entity", "name is a required field", "en"},
	} {
		t.Run(lang, func(t *testing.T) {
			r := jsonRequest("POST", "/signup", `{"reason":"x","email":"a@b.co"}`)
			r.Header.Set("Accept-Language", lang)
			w, p := serve(t, e, r)
			if p.Title != want.title {
				t.Errorf("title = %q, want %q", p.Title, want.title)
			}
			if errs := p.Errors(); len(errs) != 1 || errs[0].Detail != want.detail {
				t.Errorf("errors = %+v, want detail %q", errs, want.detail)
			}
			if got := w.Header().Get("Content-Language"); got != want.header {
				t.Errorf("Content-Language = %q", got)
			}
		})
	}
}

func TestValidationParameters(t *testing.T) {
	e, _ := newEcho(middleware.Config{})
	e.GET("/items/:id", func(c echo.Context) error {
		var p listParams
		if err := c.Bind(&p); err != nil {
			return err
		}
		if err := (&echo.DefaultBinder{}).BindHeaders(c, &p); err != nil {
			return err
		}
		return c.Validate(&p)
	})
	_, p := serve(t, e, httptest.NewRequest("GET", "/items/abcd?limit=500", nil))
	want := []problem.FieldError{
		{Parameter: "limit", Rule: "max", RuleParam: "100"},
		{Parameter: "id", Rule: "len", RuleParam: "3"},
		{Header: "X-Api-Token", Rule: "required"},
	}
	got := p.Errors()
	if len(got) != len(want) {
		t.Fatalf("entries = %+v", got)
	}
	for i := range want {
		got[i].Detail = ""
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRegisterMessages(t *testing.T) {
	v := middleware.NewValidator()
	err := v.Engine().RegisterValidation("npi", func(fl validator.FieldLevel) bool { return len(fl.Field().String()) == 10 })
	if err != nil {
		t.Fatal(err)
	}
	if err := v.RegisterMessages("npi", map[string]string{"en": "{0} must be a 10-digit NPI", "fr": "{0} doit être un NPI à 10 chiffres"}); err != nil {
		t.Fatal(err)
	}
	if err := v.RegisterMessages("npi", map[string]string{"klingon": "x"}); err == nil {
		t.Error("an unsupported language was accepted")
	}
	type doctor struct {
		NPI string `json:"npi" validate:"npi"`
	}
	e, _ := newEcho(middleware.Config{})
	e.Validator = v
	e.POST("/doctors", bindAndValidate[doctor])
	for lang, want := range map[string]string{"en": "npi must be a 10-digit NPI", "fr": "npi doit être un NPI à 10 chiffres", "de": "npi ist ungültig"} {
		r := jsonRequest("POST", "/doctors", `{"npi":"123"}`)
		r.Header.Set("Accept-Language", lang)
		_, p := serve(t, e, r)
		if errs := p.Errors(); len(errs) != 1 || errs[0].Detail != want || errs[0].Rule != "npi" {
			t.Errorf("%s: errors = %+v, want %q", lang, errs, want)
		}
	}
}

func TestValidatorUnwrapsToValidationErrors(t *testing.T) {
	err := middleware.NewValidator().Validate(&signup{})
	var ve validator.ValidationErrors
	if !errors.As(err, &ve) || len(ve) == 0 {
		t.Fatalf("errors.As to ValidationErrors failed on %v", err)
	}
	if middleware.NewValidator().Validate(&signup{audit: audit{"r"}, Name: "n", Email: "a@b.co"}) != nil {
		t.Error("a valid value failed")
	}
}

// TestForeignValidator covers services that run validator/v10 themselves:
// the failures still become a 422 with entries, in generic words.
func TestForeignValidator(t *testing.T) {
	e, _ := newEcho(middleware.Config{})
	v := validator.New()
	e.POST("/signup", func(c echo.Context) error {
		return v.Struct(&struct {
			Email string `validate:"required"`
		}{})
	})
	_, p := serve(t, e, jsonRequest("POST", "/signup", `{}`))
	if errs := p.Errors(); p.Status != 422 || len(errs) != 1 || errs[0].Pointer != "#/Email" || errs[0].Detail != "Email is not valid" {
		t.Errorf("problem = %+v, errors = %+v", p, errs)
	}
}

func TestInvalidValidationIsServerError(t *testing.T) {
	e, logs := newEcho(middleware.Config{})
	e.POST("/x", func(c echo.Context) error { return c.Validate(nil) })
	_, p := serve(t, e, jsonRequest("POST", "/x", `{}`))
	if p.Status != 500 || p.Extensions["errors"] != nil {
		t.Errorf("problem = %+v", p)
	}
	if !strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("not logged as an error: %s", logs)
	}
}

func TestValidatorIsSafeForConcurrentUse(t *testing.T) {
	v := middleware.NewValidator()
	done := make(chan error)
	for range 8 {
		go func() {
			var err error
			for range 200 {
				err = v.Validate(&signup{Contacts: []contact{{}}})
			}
			done <- err
		}()
	}
	for range 8 {
		var ve validator.ValidationErrors
		if err := <-done; !errors.As(err, &ve) || reflect.ValueOf(ve).Len() != 5 {
			t.Errorf("err = %v", err)
		}
	}
}

type account struct {
	Password string            `json:"password" validate:"required"`
	Confirm  string            `json:"confirm" validate:"eqfield=Password"`
	Kind     string            `json:"kind"`
	Card     string            `json:"card_number" validate:"required_if=Kind card"`
	Phone    string            `json:"phone"`
	Email    string            `json:"email" validate:"required_without=Phone"`
	Billing  billing           `json:"billing"`
	Codes    map[string]string `json:"codes" validate:"dive,keys,max=3,endkeys,required"`
}

type billing struct {
	Zip string `json:"zip" validate:"eqcsfield=Password"`
}

// TestCrossFieldRulesSpeakJSON checks that rules naming other fields name
// them as the client does, and that rejected map keys are not echoed.
func TestCrossFieldRulesSpeakJSON(t *testing.T) {
	e, _ := newEcho(middleware.Config{})
	e.POST("/accounts", bindAndValidate[account])
	body := `{"password":"pw","confirm":"other","kind":"card","billing":{"zip":"x"},"codes":{"ok":"1","SECRET-KEY":"2"}}`
	w, p := serve(t, e, jsonRequest("POST", "/accounts", body))
	want := []problem.FieldError{
		{Detail: "confirm must be equal to password", Pointer: "#/confirm", Rule: "eqfield", RuleParam: "password"},
		{Detail: "card_number is a required field", Pointer: "#/card_number", Rule: "required_if", RuleParam: "kind card"},
		{Detail: "email is a required field", Pointer: "#/email", Rule: "required_without", RuleParam: "phone"},
		{Detail: "zip must be equal to password", Pointer: "#/billing/zip", Rule: "eqcsfield", RuleParam: "password"},
		{Detail: "codes is not valid", Pointer: "#/codes", Rule: "max", RuleParam: "3"},
	}
	got := p.Errors()
	if len(got) != len(want) {
		t.Fatalf("errors = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v\nwant     %+v", i, got[i], want[i])
		}
	}
	for _, leak := range []string{"SECRET", "Password", "Phone", "Kind"} {
		if strings.Contains(w.Body.String(), leak) {
			t.Errorf("the body holds %q: %s", leak, w.Body)
		}
	}
}

// TestCachedEntriesStayRight sends the same failures again, in several
// languages, and after new messages are registered: the cached entries
// must say what freshly built ones would.
func TestCachedEntriesStayRight(t *testing.T) {
	v := middleware.NewValidator()
	if err := v.Engine().RegisterValidation("npi", func(fl validator.FieldLevel) bool { return false }); err != nil {
		t.Fatal(err)
	}
	type doctor struct {
		Name     string    `json:"name" validate:"required"`
		NPI      string    `json:"npi" validate:"npi"`
		Contacts []contact `json:"contacts" validate:"dive"`
	}
	e, _ := newEcho(middleware.Config{})
	e.Validator = v
	e.POST("/doctors", bindAndValidate[doctor])
	send := func(lang string) []problem.FieldError {
		r := jsonRequest("POST", "/doctors", `{"npi":"1","contacts":[{"name":"a","phone":"+12025550123"},{"name":"","phone":"1"}]}`)
		r.Header.Set("Accept-Language", lang)
		_, p := serve(t, e, r)
		return p.Errors()
	}
	first := send("en")
	for range 3 {
		if again := send("en"); !reflect.DeepEqual(again, first) {
			t.Fatalf("cached entries differ:\n%+v\n%+v", again, first)
		}
	}
	if fr := send("fr"); fr[0].Detail != "name est un champ obligatoire" || fr[3].Detail != "phone n'est pas valide" {
		t.Errorf("French entries = %+v", fr)
	}
	if first[1].Detail != "npi is not valid" {
		t.Errorf("untranslated rule: %q", first[1].Detail)
	}
	if err := v.RegisterMessages("npi", map[string]string{"en": "{0} must be a 10-digit NPI"}); err != nil {
		t.Fatal(err)
	}
	if got := send("en"); got[1].Detail != "npi must be a 10-digit NPI" || got[2].Pointer != "#/contacts/1/name" || got[3].Pointer != "#/contacts/1/phone" {
		t.Errorf("after RegisterMessages: %+v", got)
	}
}

// TestCachedListsStayRight does the same for failures outside lists,
// whose whole list is cached: per language, per validated type (two
// types of one name, whose fields the client names differently), and
// after new messages are registered.
func TestCachedListsStayRight(t *testing.T) {
	v := middleware.NewValidator()
	if err := v.Engine().RegisterValidation("npi", func(fl validator.FieldLevel) bool { return false }); err != nil {
		t.Fatal(err)
	}
	e, _ := newEcho(middleware.Config{})
	e.Validator = v
	{
		type doctor struct {
			Name string `json:"name" validate:"required"`
			NPI  string `json:"npi" validate:"npi"`
		}
		e.POST("/doctors", bindAndValidate[doctor])
	}
	{
		type doctor struct {
			Name string `json:"full_name" validate:"required"`
			NPI  string `json:"npi_number" validate:"npi"`
		}
		e.POST("/v2/doctors", bindAndValidate[doctor])
	}
	send := func(path, lang string) []problem.FieldError {
		r := jsonRequest("POST", path, `{"npi":"1"}`)
		r.Header.Set("Accept-Language", lang)
		_, p := serve(t, e, r)
		return p.Errors()
	}
	want := []problem.FieldError{
		{Detail: "name is a required field", Pointer: "#/name", Rule: "required"},
		{Detail: "npi is not valid", Pointer: "#/npi", Rule: "npi"},
	}
	for range 3 {
		if got := send("/doctors", "en"); !reflect.DeepEqual(got, want) {
			t.Fatalf("entries = %+v, want %+v", got, want)
		}
	}
	if got := send("/doctors", "fr"); got[0].Detail != "name est un champ obligatoire" {
		t.Errorf("French entries = %+v", got)
	}
	if got := send("/v2/doctors", "en"); got[0].Pointer != "#/full_name" || got[1].Pointer != "#/npi_number" {
		t.Errorf("entries of the other doctor type = %+v", got)
	}
	if err := v.RegisterMessages("npi", map[string]string{"en": "{0} must be a 10-digit NPI"}); err != nil {
		t.Fatal(err)
	}
	if got := send("/doctors", "en"); got[1].Detail != "npi must be a 10-digit NPI" {
		t.Errorf("after RegisterMessages: %+v", got)
	}
}

// cacheForm fails in any combination of six fields: an embedded struct's,
// plain ones, a cross-field rule and a nested struct's.
type cacheForm struct {
	audit
	Name    string  `json:"name" validate:"required"`
	Email   string  `json:"email" validate:"required,email"`
	Age     int     `json:"age" validate:"gte=0"`
	Confirm string  `json:"confirm" validate:"eqfield=Name"`
	Billing address `json:"billing"`
}

// cacheFormBodies returns a body for each combination of failing fields
// of cacheForm; bit i of the index fails field i.
func cacheFormBodies() []string {
	fields := []struct{ valid, invalid string }{
		{`"reason":"r"`, `"reason":""`},
		{`"name":"Ann"`, `"name":""`},
		{`"email":"a@b.co"`, `"email":"x"`},
		{`"age":1`, `"age":-1`},
		{`"confirm":"Ann"`, `"confirm":"Bob"`},
		{`"billing":{"street":"s"}`, `"billing":{}`},
	}
	bodies := make([]string, 1<<len(fields))
	for combo := range bodies {
		members := make([]string, len(fields))
		for i, f := range fields {
			members[i] = f.valid
			if combo&(1<<i) != 0 {
				members[i] = f.invalid
			}
		}
		bodies[combo] = "{" + strings.Join(members, ",") + "}"
	}
	return bodies
}

// cacheFormServer validates cacheForm bodies with v.
func cacheFormServer(v *middleware.Validator) *echo.Echo {
	e, _ := newEcho(middleware.Config{})
	e.Validator = v
	e.POST("/forms", bindAndValidate[cacheForm])
	return e
}

// sendForm returns the Content-Language and body of the answer to body.
func sendForm(e *echo.Echo, body, lang string) string {
	r := jsonRequest("POST", "/forms", body)
	r.Header.Set("Accept-Language", lang)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w.Header().Get("Content-Language") + " " + w.Body.String()
}

// freshAnswer is the answer of a Validator that has seen nothing before:
// one per body and language, since a Validator's caches hold every
// language.
func freshAnswer(t *testing.T, body, lang string) string {
	t.Helper()
	want := sendForm(cacheFormServer(middleware.NewValidator()), body, lang)
	if body != cacheFormBodies()[0] && !strings.Contains(want, `"errors":[`) {
		t.Fatalf("%s in %s: no errors in %s", body, lang, want)
	}
	return want
}

// TestCachedResponsesMatchFreshOnes sends every combination of failing
// fields, in three languages, to one Validator that has seen them all
// before, and to fresh ones: the bodies must be the same bytes, whatever
// the caches hold.
func TestCachedResponsesMatchFreshOnes(t *testing.T) {
	langs := []string{"en", "fr", "ja"}
	bodies := cacheFormBodies()
	warm := cacheFormServer(middleware.NewValidator())
	for _, body := range bodies {
		for _, lang := range langs {
			sendForm(warm, body, lang)
		}
	}
	for _, body := range bodies {
		for _, lang := range langs {
			want := freshAnswer(t, body, lang)
			for i := range 2 {
				if got := sendForm(warm, body, lang); got != want {
					t.Errorf("%s in %s, warm response %d:\n got %s\nwant %s", body, lang, i+1, got, want)
				}
			}
		}
	}
}

// TestCachesAreSafeForConcurrentUse has goroutines fill and read one
// Validator's caches at once, each in its own order; run with -race. Every
// answer must still be a fresh Validator's.
func TestCachesAreSafeForConcurrentUse(t *testing.T) {
	langs := []string{"en", "fr"}
	bodies := cacheFormBodies()[:16]
	want := map[[2]string]string{}
	for _, body := range bodies {
		for _, lang := range langs {
			want[[2]string{body, lang}] = freshAnswer(t, body, lang)
		}
	}
	shared := cacheFormServer(middleware.NewValidator())
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 3 * len(bodies) * len(langs) {
				k := (i*(2*g+1) + g) % (len(bodies) * len(langs)) // each goroutine its own order
				body, lang := bodies[k/len(langs)], langs[k%len(langs)]
				if got := sendForm(shared, body, lang); got != want[[2]string{body, lang}] {
					t.Errorf("%s in %s:\n got %s\nwant %s", body, lang, got, want[[2]string{body, lang}])
					return
				}
			}
		})
	}
	wg.Wait()
}
