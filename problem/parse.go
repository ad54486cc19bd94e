package problem

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/virtuheal/apierrors/status"
)

// MaxParseSize is the most Parse reads of a response body. A problem is
// small; a larger body is refused rather than read into memory.
const MaxParseSize = 1 << 20

// ErrNotProblem is returned, wrapped, by Parse for a response that does not
// carry a problem.
var ErrNotProblem = errors.New("problem: response is not a problem")

// Parse reads the problem a response carries: an application/problem+json
// or application/problem+xml body, or an application/json (or other +json)
// body with at least one standard problem member. It reads at most
// MaxParseSize bytes of the body and leaves closing it to the caller.
//
// Parsing is lenient where RFC 9457 asks: members of the wrong type are
// ignored, unknown members become Extensions, and an absent status is
// taken from the response. A problem type with an empty body (as for
// HEAD) yields a problem made from the response status.
//
// The error wraps ErrNotProblem when the response is not a problem.
func Parse(resp *http.Response) (*Problem, error) {
	ct := resp.Header.Get("Content-Type")
	mediaType, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, fmt.Errorf("%w: Content-Type %q", ErrNotProblem, ct)
	}
	isJSON := mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
	isXML := mediaType == "application/xml" || mediaType == "text/xml" || strings.HasSuffix(mediaType, "+xml")
	if !isJSON && !isXML {
		return nil, fmt.Errorf("%w: Content-Type %q", ErrNotProblem, mediaType)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxParseSize+1))
	if err != nil {
		return nil, fmt.Errorf("problem: reading body: %w", err)
	}
	if len(body) > MaxParseSize {
		return nil, fmt.Errorf("problem: body larger than %d bytes", MaxParseSize)
	}
	explicit := mediaType == MediaType || mediaType == MediaTypeXML
	if len(bytes.TrimSpace(body)) == 0 {
		if !explicit {
			return nil, fmt.Errorf("%w: empty %s body", ErrNotProblem, mediaType)
		}
		code := status.Code(resp.StatusCode)
		return &Problem{Type: BlankType, Title: code.Title(), Status: resp.StatusCode}, nil
	}

	p := new(Problem)
	var standard int
	if isJSON {
		standard, err = p.decodeJSON(body)
	} else {
		standard, err = decodeXMLDocument(p, body)
	}
	if err != nil {
		if explicit {
			return nil, fmt.Errorf("problem: malformed %s body: %w", mediaType, err)
		}
		return nil, fmt.Errorf("%w: %s body: %v", ErrNotProblem, mediaType, err)
	}
	if standard == 0 && !explicit {
		return nil, fmt.Errorf("%w: %s body has no problem members", ErrNotProblem, mediaType)
	}
	if p.Status == 0 {
		p.Status = resp.StatusCode
	}
	return p, nil
}

func decodeXMLDocument(p *Problem, body []byte) (int, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := d.Token()
		if err != nil {
			return 0, err
		}
		if start, ok := tok.(xml.StartElement); ok {
			return p.decodeXML(d, start)
		}
	}
}
