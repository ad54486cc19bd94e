// Command gencodes writes status/codes_gen.go from status/codes.md.
//
// It runs through go generate in the status directory:
//
//	go generate ./status
package main

import (
	"flag"
	"log"
	"os"

	"github.com/virtuheal/apierrors/status/internal/statusdoc"
)

func main() {
	in := flag.String("in", "codes.md", "the status-code document")
	out := flag.String("out", "codes_gen.go", "the Go file to write")
	flag.Parse()

	doc, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	src, err := statusdoc.Generate(doc)
	if err != nil {
		log.Fatalf("%s: %v", *in, err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
