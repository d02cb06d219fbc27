// The activation arena: where buffers are placed (arena_placement), and how the executor uses the plan
// (memory_plan): slots shared by values never alive together, views and in-place outputs in their input's
// buffer, zero-filled slots for kernels that do not write every element, and unforeseen aliases copied out.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "runtime/arena_placement.h"
#include "runtime/executor.h"

namespace npukit::runtime {
namespace {

// ---- placement ----

bool alive_together(const BufferLifetime& a, const BufferLifetime& b) { return !(a.last < b.first || b.last < a.first); }

TEST(ArenaPlacement, BuffersAliveTogetherNeverShareBytes) {
  std::mt19937 generator(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferLifetime> buffers;
    const int count = 1 + static_cast<int>(generator() % 40);
    for (int i = 0; i < count; ++i) {
      const size_t first = generator() % 30;
      buffers.push_back({1 + generator() % 5000, first, first + generator() % 8});
    }
    const ArenaLayout layout = place_buffers(buffers);
    size_t total = 0;
    for (size_t i = 0; i < buffers.size(); ++i) {
      EXPECT_EQ(layout.offsets[i] % 64, 0u);
      EXPECT_LE(layout.offsets[i] + buffers[i].bytes, layout.total_bytes);
      total += (buffers[i].bytes + 63) / 64 * 64;
      for (size_t j = 0; j < i; ++j) {
        if (!alive_together(buffers[i], buffers[j])) continue;
        const bool apart = layout.offsets[i] + buffers[i].bytes <= layout.offsets[j] ||
                           layout.offsets[j] + buffers[j].bytes <= layout.offsets[i];
        ASSERT_TRUE(apart) << "trial " << trial << ": buffers " << i << " and " << j << " overlap";
      }
    }
    EXPECT_LE(layout.total_bytes, total);
  }
}

TEST(ArenaPlacement, AChainNeedsTwoBuffersWhateverItsLength) {
  // a -> b -> c -> d -> e: each value is read only by the next node, so two slots alternate.
  std::vector<BufferLifetime> chain;
  for (size_t i = 0; i < 5; ++i) chain.push_back({1000, i, i + 1});
  EXPECT_EQ(place_buffers(chain).total_bytes, 2 * 1024u);
}

TEST(ArenaPlacement, ASmallBufferFillsTheGapALargerOneLeft) {
  // The two big ones are alive together; the small one lives after the first big one died, beside the second.
  const std::vector<BufferLifetime> buffers{{4096, 0, 1}, {4096, 1, 3}, {1024, 2, 3}};
  const ArenaLayout layout = place_buffers(buffers);
  EXPECT_EQ(layout.total_bytes, 8192u);
  EXPECT_EQ(layout.offsets[2], layout.offsets[0]);
}

// ---- the executor's use of the plan ----

ir::TensorType float_type(Shape shape) {
  ir::TensorType type;
  type.dtype = DType::f32;
  std::vector<ir::Dim> dims;
  for (int64_t size : shape) dims.push_back(ir::Dim::fixed(size));
  type.shape = dims;
  return type;
}

// Add: writes every element and may run in place. Alias: returns its input's storage (a view the memory
// plan does not know about). Partial: writes element 0 only and relies on the rest being zero, like a
// reference kernel that accumulates. Addresses: remembers where each node's output 0 was written.
struct Recorded {
  std::mutex mutex;
  std::map<std::string, const void*> output_address;
  int parts_in_place = 0;
};

class TestExecutable final : public NodeExecutable {
 public:
  TestExecutable(std::string op, Recorded& recorded) : op_(std::move(op)), recorded_(recorded) {}
  bool writes_whole_outputs() const override { return op_ == "Add" || op_ == "Concat"; }
  bool inputs_may_live_in_output() const override { return op_ == "Concat"; }
  std::vector<size_t> in_place_inputs() const override { return op_ == "Add" ? std::vector<size_t>{0, 1} : std::vector<size_t>{}; }
  void run(KernelContext& context) const override {
    const Tensor& input = context.input(0);
    if (op_ == "Alias") {
      context.set_output(0, input);
    } else if (op_ == "Concat") {
      int64_t total = 0;
      for (size_t i = 0; i < context.input_count(); ++i) total += context.input(i).element_count();
      Tensor& output = context.allocate_output(0, DType::f32, {total});
      float* target = output.data<float>();
      for (size_t i = 0; i < context.input_count(); ++i) {
        const Tensor& part = context.input(i);
        if (part.data<float>() != target) std::copy(part.data<float>(), part.data<float>() + part.element_count(), target);
        else ++const_cast<Recorded&>(recorded_).parts_in_place;
        target += part.element_count();
      }
    } else if (op_ == "Partial") {
      Tensor& output = context.allocate_output(0, DType::f32, input.shape());
      output.data<float>()[0] = input.data<float>()[0];
    } else {
      const Tensor& other = context.input(1);
      Tensor& output = context.allocate_output(0, DType::f32, input.shape());
      for (int64_t i = 0; i < input.element_count(); ++i) {
        output.data<float>()[i] = input.data<float>()[i] + other.data<float>()[i];
      }
    }
    std::lock_guard<std::mutex> lock(recorded_.mutex);
    recorded_.output_address[context.node().name] = context.produced_output(0).raw_data();
  }

 private:
  std::string op_;
  Recorded& recorded_;
};

class TestBackend final : public Backend {
 public:
  std::string_view name() const override { return "test"; }
  std::optional<std::string> unsupported_reason(const ir::Node&, int64_t) const override { return std::nullopt; }
  std::unique_ptr<NodeExecutable> prepare(const ir::Node& node, int64_t) const override {
    return std::make_unique<TestExecutable>(node.op_type, recorded);
  }
  mutable Recorded recorded;
};

struct TestGraph {
  std::shared_ptr<ir::Model> model = [] {
    auto created = std::make_shared<ir::Model>();
    created->opset_imports[""] = 13;
    return created;
  }();
  ir::Value* input(const std::string& name) {
    ir::Value* value = model->graph->add_value(name, float_type({4}));
    value->is_graph_input = true;
    model->graph->inputs.push_back(value);
    return value;
  }
  ir::Value* node(const std::string& op, std::vector<ir::Value*> inputs, const std::string& name, int64_t size = 4) {
    ir::Value* output = model->graph->add_value(name, float_type({size}));
    model->graph->add_node(op, std::move(inputs), {output}, name);
    return output;
  }
  void output(ir::Value* value) {
    value->is_graph_output = true;
    model->graph->outputs.push_back(value);
  }
};

Tensor vector4(float a, float b, float c, float d) { return Tensor::from_vector<float>(DType::f32, {4}, {a, b, c, d}); }

TEST(MemoryPlan, AChainRunsInPlaceInOneSlotAndGraphOutputsStayOutside) {
  TestGraph graph;
  ir::Value* x = graph.input("x");
  ir::Value* value = x;
  for (int i = 0; i < 6; ++i) value = graph.node("Add", {value, x}, "add" + std::to_string(i));
  graph.output(value);
  TestBackend backend;
  Executor executor(graph.model, {&backend});
  EXPECT_EQ(executor.arena_values(), 5u);  // add0..add4; add5 is the graph output
  // In place: every Add writes over its dying first operand, so the chain needs one 64-byte slot.
  EXPECT_EQ(executor.arena_bytes(), 64u);
  std::vector<Tensor> outputs = executor.run({{"x", vector4(1, 2, 3, 4)}});
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{7, 14, 21, 28}));
  EXPECT_EQ(backend.recorded.output_address["add1"], backend.recorded.output_address["add0"]);
  EXPECT_EQ(backend.recorded.output_address["add4"], backend.recorded.output_address["add0"]);
  // The output the caller gets is its own: a second run does not change it.
  executor.run({{"x", vector4(5, 5, 5, 5)}});
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{7, 14, 21, 28}));
}

TEST(MemoryPlan, AnAliasThePlanDidNotForeseeIsCopiedBeforeItsBytesAreReused) {
  // a = x + x; b = Alias(a) (a dies here, b points into a's slot); c = x + k reuses a's slot;
  // y = b + c. Without the copy, b would read c's values.
  TestGraph graph;
  ir::Value* x = graph.input("x");
  ir::Value* k = graph.input("k");
  ir::Value* a = graph.node("Add", {x, x}, "a");
  ir::Value* b = graph.node("Alias", {a}, "b");
  ir::Value* c = graph.node("Add", {x, k}, "c");
  graph.output(graph.node("Add", {b, c}, "y"));
  TestBackend backend;
  Executor executor(graph.model, {&backend});
  std::vector<Tensor> outputs = executor.run({{"x", vector4(1, 2, 3, 4)}, {"k", vector4(100, 100, 100, 100)}});
  EXPECT_EQ(backend.recorded.output_address["c"], backend.recorded.output_address["a"]) << "the test needs the reuse";
  EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{103, 106, 109, 112}));
}

TEST(MemoryPlan, KernelsThatDoNotWriteEveryElementGetZeroedSlots) {
  // a = x + x and b = a + a fill two slots; p = Partial(b) reuses a's slot, dirty with a's values.
  TestGraph graph;
  ir::Value* x = graph.input("x");
  ir::Value* a = graph.node("Add", {x, x}, "a");
  ir::Value* b = graph.node("Add", {a, x}, "b");
  ir::Value* p = graph.node("Partial", {b}, "p");
  graph.output(graph.node("Add", {p, x}, "y"));
  TestBackend backend;
  Executor executor(graph.model, {&backend});
  for (int run = 0; run < 2; ++run) {  // the second run starts from an arena dirty from the first
    std::vector<Tensor> outputs = executor.run({{"x", vector4(1, 2, 3, 4)}});
    EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{4, 2, 3, 4}));
  }
}

TEST(MemoryPlan, ConcatPartsAreWrittenInPlaceInsideTheConcatOutput) {
  // a and b are written straight into their places in c; the graph input x (not in the arena) is copied.
  // a is also read after the Concat, from inside c's buffer.
  TestGraph graph;
  ir::Value* x = graph.input("x");
  ir::Value* a = graph.node("Add", {x, x}, "a");
  ir::Value* b = graph.node("Add", {a, x}, "b");
  ir::Value* c = graph.node("Concat", {a, x, b}, "c", 12);
  ir::Value* c2 = graph.node("Concat", {c, c}, "c2", 24);  // the same value twice: copied, not planned inside
  graph.output(c2);
  graph.output(graph.node("Add", {a, x}, "late"));
  TestBackend backend;
  Executor executor(graph.model, {&backend});
  for (int run = 0; run < 2; ++run) {
    backend.recorded.parts_in_place = 0;
    std::vector<Tensor> outputs = executor.run({{"x", vector4(1, 2, 3, 4)}});
    EXPECT_EQ(outputs[0].to_float_vector(), (std::vector<float>{2, 4, 6, 8, 1, 2, 3, 4, 3, 6, 9, 12,
                                                                2, 4, 6, 8, 1, 2, 3, 4, 3, 6, 9, 12}));
    EXPECT_EQ(outputs[1].to_float_vector(), (std::vector<float>{3, 6, 9, 12}));
    EXPECT_EQ(backend.recorded.parts_in_place, 2);  // a and b
    const auto* c_start = static_cast<const float*>(backend.recorded.output_address["c"]);
    EXPECT_EQ(backend.recorded.output_address["a"], c_start);
    EXPECT_EQ(backend.recorded.output_address["b"], c_start + 8);
  }
}

TEST(MemoryPlan, ConcurrentRunsUseTheirOwnArenas) {
  TestGraph graph;
  ir::Value* x = graph.input("x");
  ir::Value* value = x;
  for (int i = 0; i < 8; ++i) value = graph.node("Add", {value, x}, "add" + std::to_string(i));
  graph.output(value);
  TestBackend backend;
  Executor executor(graph.model, {&backend});
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int iteration = 0; iteration < 300; ++iteration) {
        const float base = static_cast<float>(t * 1000 + iteration);
        std::vector<Tensor> outputs = executor.run({{"x", vector4(base, base, base, base)}});
        if (outputs[0].data<float>()[2] != 9 * base) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace npukit::runtime
