package invoke

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestFreeAddrsAreDistinctWhenTheKernelReusesAPort plays a kernel that
// hands out the port it freed last whenever it can (Linux may): two
// listen-and-close calls then return one port twice, and the RIE panics
// when its invoke and Runtime API servers are given the same address.
func TestFreeAddrsAreDistinctWhenTheKernelReusesAPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	preferred := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	defer func(orig func() (net.Listener, error)) { listen = orig }(listen)
	listen = func() (net.Listener, error) {
		if l, err := net.Listen("tcp", preferred); err == nil {
			return l, nil
		}
		return net.Listen("tcp", "127.0.0.1:0")
	}
	for i := 0; i < 5; i++ {
		addrs, err := freeAddrs(2)
		if err != nil {
			t.Fatal(err)
		}
		if addrs[0] == addrs[1] {
			t.Fatalf("attempt %d: invoke and Runtime API addresses are both %s", i, addrs[0])
		}
	}
	// And the ports are free again for the RIE to bind.
	addrs, err := freeAddrs(2)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatalf("%s is still held after freeAddrs returned: %v", a, err)
		}
		_ = l.Close()
	}
}

// envFakeRIE makes the test binary act as an aws-lambda-rie that binds
// both its addresses, accepts the readiness check's connection, and then
// panics the way the real one does when it cannot bind a port.
const envFakeRIE = "LOGFAN_TEST_FAKE_RIE"

// fakeRIE runs instead of the tests when the binary is started as the RIE.
func fakeRIE() {
	var invokeAddr, apiAddr string
	for i, a := range os.Args {
		if i+1 < len(os.Args) {
			switch a {
			case "--runtime-interface-emulator-address":
				invokeAddr = os.Args[i+1]
			case "--runtime-api-address":
				apiAddr = os.Args[i+1]
			}
		}
	}
	var ls []net.Listener
	for _, a := range []string{apiAddr, invokeAddr} {
		l, err := net.Listen("tcp", a)
		if err != nil {
			fmt.Fprintln(os.Stderr, "fake rie:", err)
			os.Exit(2)
		}
		ls = append(ls, l)
	}
	if c, err := ls[1].Accept(); err == nil {
		_ = c.Close()
	}
	time.Sleep(20 * time.Millisecond)
	fmt.Fprintln(os.Stderr, "panic: listen tcp "+invokeAddr+": bind: address already in use")
	os.Exit(2)
}

// TestRIEExitingAfterTheReadinessCheckIsAFailedStart starts an RIE that
// answers the readiness check and then dies: StartRuntime must report
// that, with the RIE's last words, instead of a runtime whose every
// invocation fails.
func TestRIEExitingAfterTheReadinessCheckIsAFailedStart(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bootstrap := t.TempDir() + "/bootstrap"
	if err := os.WriteFile(bootstrap, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt, err := StartRuntime(ctx, RuntimeConfig{RIE: self, Bootstrap: bootstrap, FunctionName: "fake", Env: map[string]string{envFakeRIE: "1"}})
	if err == nil {
		rt.Stop()
		t.Fatal("StartRuntime succeeded with an RIE that exited after its readiness check")
	}
	if !strings.Contains(err.Error(), "exited at start") || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("error %q does not say the RIE exited and why", err)
	}
}
