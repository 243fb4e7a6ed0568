"""A small CNN (conv / batch norm / pooling / depthwise / upsample / transposed conv / global pooling) trained
for a few SGD steps: numtorch follows PyTorch's loss trajectory when both start from the same parameters."""
import numpy as np

from _twin import twin


def _net(T):
    nn = T.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
            self.b1 = nn.BatchNorm2d(8)
            self.p = nn.MaxPool2d(2)
            self.c2 = nn.Conv2d(8, 8, 3, padding=1, groups=8)
            self.b2 = nn.BatchNorm2d(8)
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
            self.c3 = nn.ConvTranspose2d(8, 4, 2, stride=2)
            self.gap = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(4, 10)

        def forward(self, x):
            h = self.p(T.relu(self.b1(self.c1(x))))
            h = self.up(T.relu(self.b2(self.c2(h))))
            h = self.gap(self.c3(h)).flatten(1)
            return self.fc(h)
    return Net()


def test_small_cnn_training_matches_torch():
    def case(T):
        rng = np.random.default_rng(0)
        x = T.tensor(rng.standard_normal((8, 3, 8, 8)).astype(np.float32))
        y = T.tensor(rng.integers(0, 10, 8))
        net = _net(T)
        with T.no_grad():
            for p in net.parameters():
                p.copy_(T.tensor((rng.standard_normal(tuple(p.shape)) * 0.3).astype(np.float32)))
        opt = T.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        losses = []
        for _ in range(4):
            opt.zero_grad()
            loss = T.nn.functional.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        net.eval()
        return losses + [net(x).sum().item(), net.b1.running_var, net.b1.num_batches_tracked]
    r = twin(case, rtol=1e-4, atol=1e-5)
    assert r[3] < r[0]                     # it learns
    assert int(r[-1]) == 4
