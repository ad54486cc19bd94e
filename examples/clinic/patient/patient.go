// Package patient is the clinic's domain: patients and their store. It
// knows nothing of HTTP. Its failures are plain sentinel errors; the HTTP
// edge maps them to status codes in one table (see the api package).
package patient

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Failures of the domain.
var (
	ErrNotFound       = errors.New("patient not found")
	ErrDuplicateEmail = errors.New("a patient with this email already exists")
)

// A Patient is a person the clinic treats.
type Patient struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email"`
	BirthDate string    `json:"birth_date"` // YYYY-MM-DD
	Contacts  []Contact `json:"contacts"`
	CreatedAt time.Time `json:"created_at"`
}

// A Contact is someone to call about a patient.
type Contact struct {
	Name  string `json:"name"`
	Phone string `json:"phone"` // E.164
}

// Store keeps patients in memory. It is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	byID    map[string]Patient
	order   []string          // ids in creation order
	byEmail map[string]string // lower-cased email → id
	next    int
}

// NewStore returns a store seeded with patient p-1, ada@example.com.
func NewStore() *Store {
	s := &Store{byID: map[string]Patient{}, byEmail: map[string]string{}, next: 1}
	_, _ = s.Create(context.Background(), Patient{Name: "Ada Lovelace", Email: "ada@example.com", BirthDate: "1815-12-10"})
	return s
}

// Create stores p under a new id and returns it. It fails with
// ErrDuplicateEmail when another patient has the same email.
func (s *Store) Create(ctx context.Context, p Patient) (Patient, error) {
	if err := ctx.Err(); err != nil {
		return Patient{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(p.Email)
	if _, taken := s.byEmail[key]; taken {
		return Patient{}, ErrDuplicateEmail
	}
	p.ID = "p-" + strconv.Itoa(s.next)
	s.next++
	p.CreatedAt = time.Now().UTC()
	p.Contacts = slices.Clone(p.Contacts)
	s.byID[p.ID] = p
	s.byEmail[key] = p.ID
	s.order = append(s.order, p.ID)
	return p, nil
}

// Get returns the patient with the id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (Patient, error) {
	if err := ctx.Err(); err != nil {
		return Patient{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.byID[id]
	if !ok {
		return Patient{}, ErrNotFound
	}
	p.Contacts = slices.Clone(p.Contacts)
	return p, nil
}

// List returns up to limit patients in creation order.
func (s *Store) List(ctx context.Context, limit int) ([]Patient, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Patient, 0, min(limit, len(s.order)))
	for _, id := range s.order[:min(limit, len(s.order))] {
		p := s.byID[id]
		p.Contacts = slices.Clone(p.Contacts)
		out = append(out, p)
	}
	return out, nil
}

// Delete removes the patient with the id, or fails with ErrNotFound.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.byID[id]
	if !ok {
		return ErrNotFound
	}
	delete(s.byID, id)
	delete(s.byEmail, strings.ToLower(p.Email))
	s.order = slices.DeleteFunc(s.order, func(x string) bool { return x == id })
	return nil
}
