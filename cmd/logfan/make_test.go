package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMakeReplayWritesOnlyData: `make replay ... | jq` works: make echoes
// no command into stdout, which carries the replayed events alone (the
// command is traced on stderr).
func TestMakeReplayWritesOnlyData(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	cmd := exec.Command("make", "replay", "EVENT=events/kinesis-data.json events/kinesis-control.json", "SINK=stdout")
	cmd.Dir = "../.."
	// A make running this test (make test) must not pass its flags on.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "MAKEFLAGS" && k != "MFLAGS" && k != "MAKELEVEL" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	lines := 0
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines++
		if !json.Valid(sc.Bytes()) {
			t.Errorf("stdout line %d is not JSON: %q", lines, sc.Text())
		}
	}
	if lines < 10 {
		t.Errorf("%d lines on stdout", lines)
	}
	if !strings.Contains(stderr.String(), "+ go run ./cmd/logfan replay") {
		t.Errorf("the command is not traced on stderr:\n%s", stderr.String())
	}
}
