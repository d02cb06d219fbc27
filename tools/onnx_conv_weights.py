"""Reads the convolution weights of an exported network back into its PyTorch module (batch norm folded), for
scripts that continue training from a committed ONNX or run it without npukit.

The ONNX's Conv nodes come in the order the forward pass ran the convolutions (the exporter traces it), so the
i-th Conv node's weight and bias belong to the i-th convolution the module runs; initializer names are not relied
on (the exporter renames equal tensors and writes some as Constant or Identity nodes).
"""
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn


def load_conv_weights(model, path, input_shape):
    """Copies every Conv node's weight and bias in `path` into `model`'s nn.Conv2d modules, matched by execution
    order on a zero input of `input_shape` (run the model in its export form, so it runs what the ONNX holds);
    SystemExit naming the file when the two do not fit."""
    graph = onnx.load(path).graph
    values = {i.name: onnx.numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            values[node.output[0]] = onnx.numpy_helper.to_array(node.attribute[0].t)
        elif node.op_type == "Identity" and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    conv_nodes = [node for node in graph.node if node.op_type == "Conv"]
    order = []
    hooks = [m.register_forward_hook(lambda module, inputs, output: order.append(module))
             for m in model.modules() if isinstance(m, nn.Conv2d)]
    was_training = model.training
    with torch.no_grad():
        model.eval()(torch.zeros(*input_shape))
    model.train(was_training)
    for hook in hooks:
        hook.remove()
    # A convolution the forward pass runs twice would appear twice; none of these networks share one.
    if len(order) != len(conv_nodes):
        raise SystemExit(f"{path}: {len(conv_nodes)} convolutions, the network has {len(order)}")
    with torch.no_grad():
        for index, (module, node) in enumerate(zip(order, conv_nodes)):
            if (module.bias is None) != (len(node.input) < 3 or not node.input[2]):
                raise SystemExit(f"{path}: Conv node {index} ({node.name}) and its module differ in having a bias "
                                 "(fold the module's batch norm first)")
            for parameter, name in zip((module.weight, module.bias), node.input[1:3]):
                value = values.get(name)
                if value is None or tuple(value.shape) != tuple(parameter.shape):
                    raise SystemExit(f"{path}: Conv node {index} ({node.name}) does not fit the network")
                parameter.copy_(torch.from_numpy(value.copy()))
