"""One network's predictions from a model that may be an ensemble: its first member's."""
from core.training.loop import predict


def single(model, tensors, predictions):
    """(model, predictions (n, T)): the model itself, or an ensemble's member 0 and its predictions."""
    if predictions.ndim == 3:
        model = model.member(0)
        predictions = predict(model, tensors).predictions.double().numpy()
    return model, predictions
