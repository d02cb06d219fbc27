#include "sim/channels_last_adapter.h"

#include "sim/byte_transpose.h"

namespace npukit::sim {

namespace {

class ChannelsLastAdapter final : public runtime::NodeExecutable {
 public:
  ChannelsLastAdapter(std::unique_ptr<runtime::NodeExecutable> inner, std::vector<bool> inputs, std::vector<bool> outputs)
      : inner_(std::move(inner)), inputs_(std::move(inputs)), outputs_(std::move(outputs)) {}

  void run(runtime::KernelContext& context) const override {
    std::vector<Tensor> converted(context.input_count());
    std::vector<const Tensor*> inputs(context.input_count());
    for (size_t i = 0; i < inputs.size(); ++i) {
      inputs[i] = context.optional_input(i);
      if (inputs[i] && i < inputs_.size() && inputs_[i]) {
        converted[i] = channels_first_copy(*inputs[i]);
        inputs[i] = &converted[i];
      }
    }
    std::vector<Tensor> outputs(context.output_count());
    runtime::KernelContext inner(context.node(), context.opset(), std::move(inputs), outputs, nullptr);
    inner_->run(inner);
    for (size_t j = 0; j < outputs.size(); ++j) {
      if (j < outputs_.size() && outputs_[j]) {
        context.set_output(j, channels_last_copy(outputs[j]));
      } else {
        context.set_output(j, std::move(outputs[j]));
      }
    }
  }

 private:
  std::unique_ptr<runtime::NodeExecutable> inner_;
  std::vector<bool> inputs_, outputs_;
};

}  // namespace

std::unique_ptr<runtime::NodeExecutable> adapt_to_channels_last(std::unique_ptr<runtime::NodeExecutable> channels_first,
                                                                 std::vector<bool> inputs_channels_last,
                                                                 std::vector<bool> outputs_channels_last) {
  return std::make_unique<ChannelsLastAdapter>(std::move(channels_first), std::move(inputs_channels_last),
                                               std::move(outputs_channels_last));
}

}  // namespace npukit::sim
