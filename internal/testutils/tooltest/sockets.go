package tooltest

import (
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ecli/internal/testutils"
)

// Listener starts a TCP listener on addr that accepts and closes connections; a cleanup
// closes it.
func Listener(tb testing.TB, network, addr string) *net.TCPListener {
	tb.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return ln.(*net.TCPListener)
}

// Port is the port of a TCP address.
func Port(a net.Addr) uint16 { return uint16(a.(*net.TCPAddr).Port) }

// Dial connects to to, closes the connection and returns its local port.
func Dial(tb testing.TB, network string, to net.Addr) (lport uint16) {
	tb.Helper()
	c, err := net.Dial(network, to.String())
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	return Port(c.LocalAddr())
}

// ClosedPort returns a loopback address (addr with port 0) with no listener behind it.
func ClosedPort(tb testing.TB, network, addr string) net.Addr {
	tb.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		tb.Fatal(err)
	}
	a := ln.Addr()
	ln.Close()
	return a
}

// RawListen listens on 127.0.0.1 with the given backlog, from this thread's namespace, and
// returns the socket and its port; a cleanup closes it.
func RawListen(tb testing.TB, backlog int) (fd int, port uint16) {
	tb.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		tb.Fatal(err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		tb.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		tb.Fatal(err)
	}
	return fd, uint16(sa.(*unix.SockaddrInet4).Port)
}

// RawConnect makes a blocking connect to 127.0.0.1:port and returns the socket, its local
// port and connect(2)'s error; synRetries > 0 sets TCP_SYNCNT. A cleanup closes the socket.
func RawConnect(tb testing.TB, port uint16, synRetries int) (fd int, lport uint16, err error) {
	tb.Helper()
	fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { unix.Close(fd) })
	if synRetries > 0 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_SYNCNT, synRetries); err != nil {
			tb.Fatal(err)
		}
	}
	err = unix.Connect(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: int(port)})
	sa, _ := unix.Getsockname(fd)
	if sa4, ok := sa.(*unix.SockaddrInet4); ok {
		lport = uint16(sa4.Port)
	}
	return fd, lport, err
}

// ListenOverflows is the TcpExt ListenOverflows counter of this thread's network namespace:
// how many SYNs listeners dropped because their accept queue was full. Tests wait for it to
// grow to know a SYN was dropped.
func ListenOverflows() (uint64, error) { return TcpExt("ListenOverflows") }

// TcpExt is the TcpExt counter name of this thread's network namespace (/proc/net/netstat).
func TcpExt(name string) (uint64, error) {
	data, err := os.ReadFile("/proc/thread-self/net/netstat")
	if err != nil {
		return 0, err
	}
	// Pairs of lines: "TcpExt: Name1 Name2 ..." then "TcpExt: 1 2 ...".
	lines := strings.Split(string(data), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) == 0 || names[0] != "TcpExt:" || len(values) != len(names) {
			continue
		}
		for j, n := range names {
			if n == name {
				return strconv.ParseUint(values[j], 10, 64)
			}
		}
	}
	return 0, errors.New("/proc/thread-self/net/netstat has no TcpExt " + name)
}

// WaitListenOverflow waits up to timeout for ListenOverflows to pass before, that is for a
// listener to drop a SYN; it reports whether one did.
func WaitListenOverflow(before uint64, timeout time.Duration) bool {
	return testutils.Poll(timeout, func() bool {
		n, err := ListenOverflows()
		return err == nil && n > before
	})
}
