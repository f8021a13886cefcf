package emulator

import (
	"context"
	"net/http"
	"testing"
)

func TestStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	s, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.Stop()
	if _, err := http.Get(s.Endpoint + "/moto-api/"); err == nil {
		t.Fatalf("emulator still answers at %s after Stop", s.Endpoint)
	}
}
