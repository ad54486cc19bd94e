package patient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	s := NewStore()
	ada, err := s.Get(ctx, "p-1")
	if err != nil || ada.Email != "ada@example.com" {
		t.Fatalf("seed = %+v, %v", ada, err)
	}
	grace, err := s.Create(ctx, Patient{Name: "Grace", Email: "grace@example.com", Contacts: []Contact{{"V", "+12025550123"}}})
	if err != nil || grace.ID != "p-2" {
		t.Fatalf("Create = %+v, %v", grace, err)
	}
	if _, err := s.Create(ctx, Patient{Email: "GRACE@example.com"}); !errors.Is(err, ErrDuplicateEmail) {
		t.Errorf("duplicate email: %v", err)
	}
	got, _ := s.Get(ctx, "p-2")
	got.Contacts[0].Phone = "changed"
	if again, _ := s.Get(ctx, "p-2"); again.Contacts[0].Phone != "+12025550123" {
		t.Error("Get shares the stored contacts")
	}
	if list, _ := s.List(ctx, 1); len(list) != 1 || list[0].ID != "p-1" {
		t.Errorf("List(1) = %+v", list)
	}
	if err := s.Delete(ctx, "p-1"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{s.Delete(ctx, "p-1"), func() error { _, err := s.Get(ctx, "p-1"); return err }()} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
	}
	if _, err := s.Create(ctx, Patient{Email: "ada@example.com"}); err != nil {
		t.Errorf("a deleted patient's email stays taken: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.List(canceled, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("List ignores cancellation: %v", err)
	}
}

func TestStoreConcurrent(t *testing.T) {
	s := NewStore()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			p, err := s.Create(ctx, Patient{Email: fmt.Sprintf("p%d@example.com", i)})
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = s.List(ctx, 100)
			_ = s.Delete(ctx, p.ID)
		}()
	}
	wg.Wait()
	if list, _ := s.List(context.Background(), 100); len(list) != 1 {
		t.Errorf("%d patients left, want the seed only", len(list))
	}
}
