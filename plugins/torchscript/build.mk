# torchscript model: C++ against libtorch (Debian libtorch-dev), the C ABI
# outside.  Built with g++ instead of the C plugin flags.
torchscript_CC := g++
torchscript_BASE := -std=gnu++17 -fPIC -g -shared -fvisibility=hidden -Wall -Wextra -Werror \
                    -Wno-unused-parameter -O2 -Icore/include -isystem /usr/include/torch/csrc/api/include
torchscript_LIBS := -ltorch -ltorch_cpu -lc10
