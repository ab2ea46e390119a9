// W3 ping-pong (docs/design/benchmarks-method.md), Go with GOMAXPROCS=1: two goroutines pass a token through two
// buffered channels of capacity 1 (Go's queue of size 1); the ponger adds one on each
// round trip, so the token comes back as M.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func ping(out chan<- int64, in <-chan int64, m int64, result chan<- int64) {
	token := int64(0)
	for i := int64(0); i < m; i++ {
		out <- token
		token = <-in
	}
	result <- token
}

func pong(in <-chan int64, out chan<- int64, m int64) {
	for i := int64(0); i < m; i++ {
		token := <-in
		out <- token + 1
	}
}

func main() {
	m := int64(1_000_000)
	if len(os.Args) > 1 {
		m, _ = strconv.ParseInt(os.Args[1], 10, 64)
	}
	start := time.Now()

	there := make(chan int64, 1)
	back := make(chan int64, 1)
	result := make(chan int64, 1)
	go ping(there, back, m, result)
	go pong(there, back, m)
	token := <-result

	elapsed := time.Since(start)
	if token != m {
		fmt.Fprintf(os.Stderr, "w3 go: token %d, expected %d\n", token, m)
		os.Exit(1)
	}
	fmt.Printf("RESULT workload=w3_ping_pong runtime=go n=%d ns_per_op=%.2f\n", m, float64(elapsed.Nanoseconds())/float64(m))
}
