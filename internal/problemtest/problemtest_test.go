package problemtest

import "testing"

// The schema must reject what RFC 9457 forbids, or validating against it
// proves nothing.
func TestValidateSchemaRejects(t *testing.T) {
	for _, body := range []string{
		`{"status":99}`,
		`{"status":600}`,
		`{"status":"404"}`,
		`{"type":1}`,
		`{"instance":"/a b"}`,
		`{"instance":"/a%zz"}`,
		`{"instance":"/a\u003cb\u003e"}`,
		`{"instance":"/caf\u00e9"}`,
		`{"instance":"/a#b#c"}`,
		`{"type":"1http://x"}`,
		`{"type":"http://[::1"}`,
		`[]`,
		`{`,
	} {
		if err := ValidateSchema([]byte(body)); err == nil {
			t.Errorf("schema accepts %s", body)
		}
	}
	for _, body := range []string{
		`{}`,
		`{"type":"about:blank","title":"Not Found","status":404,"detail":"x","instance":"/patients/p%20x"}`,
		`{"type":"https://api.virtuheal.com/problems/not-found","extra":{"x":[1]}}`,
		`{"type":"tag:example@example.org,2021-09-17:OutOfLuck","instance":"http://[::1]:80/x?y=1#z"}`,
	} {
		if err := ValidateSchema([]byte(body)); err != nil {
			t.Errorf("schema rejects %s: %v", body, err)
		}
	}
}
