package status_test

import (
	"fmt"

	"github.com/virtuheal/apierrors/status"
)

func ExampleCode() {
	c := status.NotFound
	fmt.Println(c)
	fmt.Println(c.Name())
	fmt.Println(c.Description())
	fmt.Println(c.Class(), c.IsError(), c.Slug())
	// Output:
	// 404 Not Found
	// HTTP_404_NOT_FOUND
	// The server can not find the requested resource.
	// Client Error true not-found
}

func ExampleLookup() {
	for _, n := range []int{413, 418} {
		c, ok := status.Lookup(n)
		fmt.Println(n, ok, c.Title())
	}
	// Output:
	// 413 true Request Entity Too Large
	// 418 false
}

func ExampleByName() {
	c, ok := status.ByName("HTTP_422_UNPROCESSABLE_ENTITY")
	fmt.Println(int(c), ok, c.Title())
	// Output: 422 true Unprocessable Entity
}
