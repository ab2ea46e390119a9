// W1 spawn-join (docs/design/benchmarks-method.md), Go with GOMAXPROCS=1: N goroutines each send their index on a
// channel of their own (buffered, capacity 1: the goroutine's handle); then the main
// goroutine receives from each channel in order and sums the results.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n := int64(1_000_000)
	if len(os.Args) > 1 {
		n, _ = strconv.ParseInt(os.Args[1], 10, 64)
	}
	start := time.Now()

	handles := make([]chan int64, n)
	for i := int64(0); i < n; i++ {
		handles[i] = make(chan int64, 1)
		go func(i int64, result chan<- int64) { result <- i }(i, handles[i])
	}
	var sum int64
	for _, h := range handles {
		sum += <-h
	}

	elapsed := time.Since(start)
	if sum != n*(n-1)/2 {
		fmt.Fprintf(os.Stderr, "w1 go: wrong sum %d\n", sum)
		os.Exit(1)
	}
	fmt.Printf("RESULT workload=w1_spawn_join runtime=go n=%d ns_per_op=%.2f\n", n, float64(elapsed.Nanoseconds())/float64(n))
}
