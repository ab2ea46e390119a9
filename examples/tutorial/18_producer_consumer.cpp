// 18_producer_consumer.cpp: a bounded pipeline. One producer puts six items into a
// Queue(2), pausing 0.1 s before each; two consumers of different speeds take them. A full
// queue makes the producer wait: the queue's bound is what slows it down to the consumers'
// pace. When it is done, the producer calls queue.shutdown() (Python 3.13): each consumer
// finishes what is left, then its get() raises QueueShutDown and it stops. No sentinel
// values, no cancel().
#include "tour.hpp"

#include <asyncio.hpp>

#include <iostream>
#include <string>

asyncio::Coro<void> producer(asyncio::Queue<int>& queue) {
    for (int item = 1; item <= 6; ++item) {
        co_await asyncio::sleep(0.1);
        if (queue.full()) std::cout << "producer: queue full, waiting to put item " << item << '\n';
        co_await queue.put(item);  // waits while the queue is full
        std::cout << "producer: put item " << item << " (" << queue.qsize() << " waiting)\n";
    }
    queue.shutdown();
    std::cout << "producer: done, queue shut down\n";
}

asyncio::Coro<int> consumer(std::string name, double seconds_per_item, asyncio::Queue<int>& queue) {
    int handled = 0;
    while (true) {
        int item = 0;
        bool shut_down = false;
        try {
            item = co_await queue.get();
        } catch (const asyncio::QueueShutDown&) {
            shut_down = true;  // shut down and drained
        }
        if (shut_down) break;
        std::cout << name << ": got item " << item << '\n';
        co_await asyncio::sleep(seconds_per_item);
        std::cout << name << ": finished item " << item << '\n';
        ++handled;
    }
    std::cout << name << ": queue shut down, stopping\n";
    co_return handled;
}

asyncio::Coro<void> amain() {
    asyncio::Queue<int> queue(2);
    auto fast = asyncio::create_task(consumer("fast", 0.3, queue));
    auto slow = asyncio::create_task(consumer("slow", 0.7, queue));

    co_await producer(queue);
    auto handled = co_await asyncio::gather(fast, slow);

    std::cout << "fast handled " << std::get<0>(handled) << " items, slow handled " << std::get<1>(handled) << '\n';
}

int main() { tour::run(amain()); }
