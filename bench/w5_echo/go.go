// W5 echo (docs/design/benchmarks-method.md), Go: a TCP echo server, one goroutine per connection reading up to
// 64 KiB and writing it back. Run with GOMAXPROCS=1 (bench/run.py sets it), so that goroutines run on one thread
// like the other loops (the runtime's own threads, sysmon and the netpoller's, still exist). Go sets TCP_NODELAY
// on every TCP connection by default.
//
//	w5_echo [PORT]    (0, the default: any free port)    prints `READY port=N`, then serves until killed.
package main

import (
	"fmt"
	"net"
	"os"
)

func echo(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 64*1024)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func main() {
	port := "0"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "w5 go:", err)
		os.Exit(1)
	}
	fmt.Printf("READY port=%d\n", ln.Addr().(*net.TCPAddr).Port)
	for {
		c, err := ln.Accept()
		if err != nil {
			fmt.Fprintln(os.Stderr, "w5 go:", err)
			os.Exit(1)
		}
		go echo(c)
	}
}
