#include "chexgen/core/json.h"
#include "chexgen/utility/train.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <future>
#include <limits>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/core/log.h"
#include "chexgen/core/numeric.h"
#include "chexgen/core/parallel.h"
#include "chexgen/core/progress.h"
#include "chexgen/core/version.h"
#include "chexgen/features/extract.h"
#include "chexgen/fidelity/baselines.h"
#include "chexgen/image/decode.h"
#include "chexgen/image/filters.h"
#include "chexgen/image/resize.h"
#include "chexgen/utility/plateau.h"

namespace chexgen::utility {
namespace {

namespace fs = std::filesystem;

constexpr float kMean[3] = {0.485f, 0.456f, 0.406f}, kStd[3] = {0.229f, 0.224f, 0.225f};

// A uniform double in [0, 1) from draw k of a stream.
double uniform(std::uint64_t draw, std::uint64_t k) {
  return static_cast<double>(splitmix64(draw + 0x9E3779B97F4A7C15ULL * (k + 1)) >> 11) * 0x1.0p-53;
}

// One image the network sees: which set, which sample, and its label vector.
struct Item {
  const Dataset* set = nullptr;
  std::size_t sample = 0;
  std::vector<float> truth;  // labels.size(), 1 or 0
};

struct Batch {
  torch::Tensor x, y;
};

Batch make_batch(const std::vector<Item>& items, const std::vector<std::size_t>& order, std::size_t first,
                 std::size_t count, Protocol protocol, int size, bool augment, std::uint64_t stream, int threads) {
  const std::size_t plane = 3 * static_cast<std::size_t>(size) * size, labels = items.front().truth.size();
  std::vector<float> x(count * plane), y(count * labels);
  parallel_for(count, threads, [&](std::size_t i) {
    const std::size_t row = order[first + i];
    const Item& item = items[row];
    const Sample& s = item.set->samples[item.sample];
    Image8 gray;
    try {
      gray = read_image_u8(s.image_path, ColorMode::gray);
    } catch (const InputError& e) {
      throw features::sample_error(*item.set, s, e.reason());
    }
    const std::vector<float> input = network_input(gray, protocol, size, augment, splitmix64(stream ^ row));
    std::copy(input.begin(), input.end(), x.begin() + static_cast<std::ptrdiff_t>(i * plane));
    std::copy(item.truth.begin(), item.truth.end(), y.begin() + static_cast<std::ptrdiff_t>(i * labels));
  });
  const auto n = static_cast<std::int64_t>(count);
  return {torch::from_blob(x.data(), {n, 3, size, size}, torch::kFloat32).clone(),
          torch::from_blob(y.data(), {n, static_cast<std::int64_t>(labels)}, torch::kFloat32).clone()};
}

// The summed loss and the probabilities of `items` (eval mode, no augmentation), batch by batch.
std::pair<double, MatrixD> predict(deep::Classifier& net, const std::vector<Item>& items, int batch_size,
                                   int image_size, Protocol protocol, torch::Device device, int threads) {
  std::vector<std::size_t> order(items.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const std::size_t labels = items.empty() ? 0 : items.front().truth.size();
  MatrixD p(items.size(), labels);
  double loss_sum = 0;
  torch::NoGradGuard guard;
  net.module()->eval();
  for (std::size_t first = 0; first < items.size(); first += static_cast<std::size_t>(batch_size)) {
    const std::size_t count = std::min<std::size_t>(static_cast<std::size_t>(batch_size), items.size() - first);
    const Batch b = make_batch(items, order, first, count, protocol, image_size, false, 0, threads);
    const torch::Tensor logits = net.forward(b.x.to(device));
    loss_sum +=
        torch::binary_cross_entropy_with_logits(logits, b.y.to(device)).item<double>() * static_cast<double>(count);
    const torch::Tensor prob = torch::sigmoid(logits).to(torch::kCPU, torch::kFloat64).contiguous();
    std::copy(prob.data_ptr<double>(), prob.data_ptr<double>() + count * labels, p.row(first));
  }
  return {loss_sum, p};
}

// Every test image, in manifest order (its truth is the run's, not the item's).
std::vector<Item> test_items_of(const Dataset& test, std::size_t labels) {
  std::vector<Item> items;
  for (std::size_t s = 0; s < test.samples.size(); ++s) items.push_back({&test, s, std::vector<float>(labels, 0.0f)});
  return items;
}

void check_files(const std::vector<Item>& items) {
  for (const Item& item : items)
    if (!fs::is_regular_file(item.set->samples[item.sample].image_path))
      throw features::sample_error(*item.set, item.set->samples[item.sample], "file not found");
}

void set_learning_rate(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

// What must be equal for a checkpoint to be resumed: the inputs (the training rows' images) and every option that
// shapes the run (not the number of epochs, which a resumed run may extend).
std::string fingerprint(const UtilityRun& run, const std::vector<Item>& train, const TrainOptions& o) {
  std::string all = fmt::format(
      "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", deep::architecture_name(o.architecture), o.weights.string(), o.batch_size,
      o.image_size, o.learning_rate, o.weight_decay, o.plateau_factor, o.plateau_patience, o.training.seed,
      protocol_name(run.training.protocol), setting_name(run.training.setting), fmt::join(run.labels, ","));
  for (const Item& item : train) all += "|" + item.set->samples[item.sample].image_path.string();
  return sha256_hex({reinterpret_cast<const std::uint8_t*>(all.data()), all.size()});
}

void save_atomically(torch::serialize::OutputArchive& archive, const fs::path& path) {
  const fs::path partial = path.string() + ".partial";
  archive.save_to(partial.string());
  std::error_code ec;
  fs::rename(partial, path, ec);
  if (ec) throw OutputError(fmt::format("cannot write {}: {}", path.string(), ec.message()));
}

}  // namespace

std::vector<float> network_input(const Image8& gray, Protocol protocol, int size, bool augment, std::uint64_t draw) {
  CHEXGEN_ASSERT(gray.channels == 1 && size > 0, "network_input: a gray image and a positive size");
  Image8 square;
  if (protocol == Protocol::chexgenbench) {
    square = resize(gray, size, size, ResampleFilter::bilinear);
  } else {
    const double scale = static_cast<double>(size) / std::max(gray.width, gray.height);
    const int w = std::max(1, static_cast<int>(std::lround(gray.width * scale)));
    const int h = std::max(1, static_cast<int>(std::lround(gray.height * scale)));
    const Image8 scaled = (w == gray.width && h == gray.height) ? gray : resize(gray, w, h, ResampleFilter::bilinear);
    square = Image8(size, size, 1);
    const int x0 = (size - w) / 2, y0 = (size - h) / 2;
    for (int y = 0; y < h; ++y)
      std::copy(scaled.data.begin() + static_cast<std::ptrdiff_t>(y) * w,
                scaled.data.begin() + static_cast<std::ptrdiff_t>(y + 1) * w,
                square.data.begin() + static_cast<std::ptrdiff_t>(y + y0) * size + x0);
  }
  if (augment) {
    if (protocol == Protocol::chexgenbench && uniform(draw, 0) < 0.5)
      for (int y = 0; y < size; ++y)
        std::reverse(square.data.begin() + static_cast<std::ptrdiff_t>(y) * size,
                     square.data.begin() + static_cast<std::ptrdiff_t>(y + 1) * size);
    square = rotate_nearest(square, -10.0 + 20.0 * uniform(draw, 1), 0);
  }
  const std::size_t n = static_cast<std::size_t>(size) * size;
  std::vector<float> out(3 * n);
  for (int c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < n; ++i)
      out[c * n + i] = (static_cast<float>(square.data[i]) / 255.0f - kMean[c]) / kStd[c];
  return out;
}

UtilityRun train_and_test(const Dataset* real, const Dataset* synthetic, const Dataset& test, const TrainOptions& o,
                          const fs::path& work, const Log& log) {
  if (o.epochs < 1 || o.batch_size < 1 || o.image_size < 32)
    throw UsageError("--epochs and --batch-size must be at least 1, --image-size at least 32");
  UtilityRun run =
      start_run(real, synthetic, test, o.training, o.labels, o.generator, o.agreement, o.scoring.threshold);
  ScoringOptions scoring = o.scoring;
  scoring.seed = o.training.seed;
  const TrainingSet& t = run.training;
  const Protocol protocol = t.protocol;
  const std::size_t labels = run.labels.size();

  // The images: training and validation rows, every test image, the synthetic images scored for agreement. Every
  // file is checked before the first epoch.
  auto items_of = [&](const std::vector<std::size_t>& rows) {
    std::vector<Item> items;
    for (std::size_t r : rows) {
      const TrainingRow& row = t.rows[r];
      Item item{row.synthetic ? synthetic : real, row.sample, {}};
      for (std::size_t l = 0; l < labels; ++l) item.truth.push_back(row_truth(run, real, synthetic, row, l));
      items.push_back(std::move(item));
    }
    return items;
  };
  const std::vector<Item> train_items = items_of(t.train), validation_items = items_of(t.validation);
  const std::vector<Item> test_items = test_items_of(test, labels);
  std::vector<std::size_t> test_samples(test.samples.size());
  for (std::size_t s = 0; s < test.samples.size(); ++s) test_samples[s] = s;
  set_test_rows(run, test, test_samples, "the network");
  std::vector<Item> agreement_items;
  if (o.agreement) {
    const std::vector<std::uint8_t> truth = prompt_truth(run, *real, *synthetic, o.training.source_column);
    for (std::size_t g = 0; g < synthetic->samples.size(); ++g)
      agreement_items.push_back({synthetic, g,
                                 std::vector<float>(truth.begin() + static_cast<std::ptrdiff_t>(g * labels),
                                                    truth.begin() + static_cast<std::ptrdiff_t>((g + 1) * labels))});
  }
  check_files(train_items);
  check_files(validation_items);
  check_files(test_items);
  check_files(agreement_items);

  const int threads = resolve_threads(o.threads);
  torch::set_num_threads(threads);
  const torch::Device device = deep::training_device(o.device);
  torch::manual_seed(o.training.seed);
  deep::Classifier net(o.architecture, static_cast<int>(labels));
  if (!o.weights.empty())
    deep::load_state_dict(*net.module(), o.weights,
                          o.architecture == deep::Architecture::densenet121 ? "classifier." : "fc.");
  net.module()->to(device);
  torch::optim::Adam optimizer(net.module()->parameters(),
                               torch::optim::AdamOptions(o.learning_rate).weight_decay(o.weight_decay));
  ReduceLrOnPlateau plateau(o.learning_rate, o.plateau_factor, o.plateau_patience);

  // Resume from the last finished epoch when this run made the checkpoint.
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec) throw OutputError(fmt::format("cannot create {}: {}", work.string(), ec.message()));
  const fs::path checkpoint = work / "checkpoint.pt", best = work / "best.pt", log_file = work / "training_log.csv";
  const std::string print = fingerprint(run, train_items, o);
  int start_epoch = 0, best_epoch = 0;
  double best_loss = std::numeric_limits<double>::infinity();
  std::string log_text = "epoch,train_loss,validation_loss,validation_auroc,learning_rate,seconds,data_wait_seconds\n";
  if (fs::exists(checkpoint)) {
    torch::serialize::InputArchive archive;
    archive.load_from(checkpoint.string());
    c10::IValue v;
    archive.read("fingerprint", v);
    if (v.toStringRef() != print)
      throw UsageError(fmt::format("{} was made from other inputs or options; give another --out or remove it",
                                   checkpoint.string()));
    torch::serialize::InputArchive model_archive, optimizer_archive;
    archive.read("model", model_archive);
    archive.read("optimizer", optimizer_archive);
    net.module()->load(model_archive);
    optimizer.load(optimizer_archive);
    PlateauState s;
    archive.read("epoch", v), start_epoch = static_cast<int>(v.toInt());
    archive.read("best_epoch", v), best_epoch = static_cast<int>(v.toInt());
    archive.read("best_loss", v), best_loss = v.toDouble();
    archive.read("plateau_lr", v), s.lr = v.toDouble();
    archive.read("plateau_best", v), s.best = v.toDouble();
    archive.read("plateau_bad", v), s.bad_epochs = static_cast<int>(v.toInt());
    archive.read("plateau_cooldown", v), s.cooldown_left = static_cast<int>(v.toInt());
    archive.read("log", v), log_text = v.toStringRef();
    plateau.restore(s);
    set_learning_rate(optimizer, s.lr);
    log.info("resuming {} after epoch {} of {}", checkpoint.string(), start_epoch, o.epochs);
  }

  const std::size_t batches =
      (train_items.size() + static_cast<std::size_t>(o.batch_size) - 1) / static_cast<std::size_t>(o.batch_size);
  for (int epoch = start_epoch; epoch < o.epochs; ++epoch) {
    const auto started = std::chrono::steady_clock::now();
    const std::uint64_t stream = splitmix64(o.training.seed * 1000003ULL + static_cast<std::uint64_t>(epoch));
    const std::vector<std::size_t> order = fidelity::seeded_permutation(train_items.size(), stream);
    net.module()->train();
    double running = 0;
    Progress progress(fmt::format("epoch {}/{}", epoch + 1, o.epochs), batches, log.progress());
    auto load = [&](std::size_t b) {
      const std::size_t first = b * static_cast<std::size_t>(o.batch_size);
      const std::size_t count =
          std::min<std::size_t>(static_cast<std::size_t>(o.batch_size), train_items.size() - first);
      return make_batch(train_items, order, first, count, protocol, o.image_size, true, stream, threads);
    };
    std::future<Batch> next = std::async(std::launch::async, load, 0);
    double data_wait = 0;  // time the network waited for images (the data path's share when it is the bottleneck)
    for (std::size_t b = 0; b < batches; ++b) {
      const auto waiting = std::chrono::steady_clock::now();
      Batch batch = next.get();  // the next batch is read while this one trains
      data_wait += std::chrono::duration<double>(std::chrono::steady_clock::now() - waiting).count();
      if (b + 1 < batches) next = std::async(std::launch::async, load, b + 1);
      optimizer.zero_grad();
      const torch::Tensor loss =
          torch::binary_cross_entropy_with_logits(net.forward(batch.x.to(device)), batch.y.to(device));
      loss.backward();
      optimizer.step();
      running += loss.item<double>() * static_cast<double>(batch.x.size(0));
      progress.advance();
    }
    progress.finish();
    const double train_loss = running / static_cast<double>(train_items.size());
    const auto [validation_sum, validation_p] =
        predict(net, validation_items, o.batch_size, o.image_size, protocol, device, threads);
    const double validation_loss = validation_sum / static_cast<double>(validation_items.size());
    std::vector<std::uint8_t> validation_truth;
    for (const Item& item : validation_items)
      for (float v : item.truth) validation_truth.push_back(v > 0.5f ? 1 : 0);
    const metrics::MultilabelScores vs =
        metrics::multilabel_scores(validation_truth, validation_p, o.scoring.threshold);
    const double lr_used = plateau.lr();
    set_learning_rate(optimizer, plateau.step(validation_loss));
    if (validation_loss < best_loss) {
      best_loss = validation_loss;
      best_epoch = epoch + 1;
      torch::serialize::OutputArchive model_archive;
      net.module()->save(model_archive);
      save_atomically(model_archive, best);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    log_text += fmt::format("{},{},{},{},{},{:.3f},{:.3f}\n", epoch + 1, train_loss, validation_loss,
                            vs.macro_auroc ? fmt::format("{}", *vs.macro_auroc) : "nan", lr_used, seconds, data_wait);
    torch::serialize::OutputArchive archive, model_archive, optimizer_archive;
    net.module()->save(model_archive);
    optimizer.save(optimizer_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", optimizer_archive);
    archive.write("fingerprint", c10::IValue(print));
    archive.write("epoch", c10::IValue(static_cast<std::int64_t>(epoch + 1)));
    archive.write("best_epoch", c10::IValue(static_cast<std::int64_t>(best_epoch)));
    archive.write("best_loss", c10::IValue(best_loss));
    archive.write("plateau_lr", c10::IValue(plateau.state().lr));
    archive.write("plateau_best", c10::IValue(plateau.state().best));
    archive.write("plateau_bad", c10::IValue(static_cast<std::int64_t>(plateau.state().bad_epochs)));
    archive.write("plateau_cooldown", c10::IValue(static_cast<std::int64_t>(plateau.state().cooldown_left)));
    archive.write("log", c10::IValue(log_text));
    save_atomically(archive, checkpoint);
    write_file_atomically(log_file, log_text);
    log.info(
        "epoch {}/{}: training loss {:.4f}, validation loss {:.4f}, validation AUROC {}, {:.1f} s ({:.1f} images/s, "
        "{:.1f} s waiting for images)",
        epoch + 1, o.epochs, train_loss, validation_loss, vs.macro_auroc ? fmt::format("{:.4f}", *vs.macro_auroc) : "-",
        seconds, static_cast<double>(train_items.size()) / seconds, data_wait);
  }

  // The best-validation-loss checkpoint is tested.
  if (!fs::exists(best))
    throw InputError(Location{log_file.string()},
                     "no epoch had a finite validation loss (training diverged): nothing to test; see the log, "
                     "lower --lr, or start from --weights");
  torch::serialize::InputArchive best_archive;
  best_archive.load_from(best.string());
  net.module()->load(best_archive);
  TestedClassifier c;
  c.space = fmt::format("{}{}, {}", deep::architecture_title(o.architecture), o.weights.empty() ? " from scratch" : "",
                        setting_name(t.setting));
  for (std::size_t l = 0; l < labels; ++l) c.fitted.push_back(l);
  c.test_probabilities = predict(net, test_items, o.batch_size, o.image_size, protocol, device, threads).second;
  const MatrixD validation_p =
      predict(net, validation_items, o.batch_size, o.image_size, protocol, device, threads).second;
  std::vector<std::uint8_t> validation_truth;
  for (const Item& item : validation_items)
    for (float v : item.truth) validation_truth.push_back(v > 0.5f ? 1 : 0);
  if (o.agreement) {
    std::vector<std::uint8_t> truth;
    for (const Item& item : agreement_items)
      for (float v : item.truth) truth.push_back(v > 0.5f ? 1 : 0);
    c.agreement_images = agreement_items.size();
    c.agreement = metrics::multilabel_scores(
        truth, predict(net, agreement_items, o.batch_size, o.image_size, protocol, device, threads).second,
        o.scoring.threshold);
  }
  c.details = {{"architecture", deep::architecture_name(o.architecture)},
               {"initial_weights", o.weights.empty() ? "none: trained from scratch" : o.weights.string()},
               {"epochs", o.epochs},
               {"best_epoch", best_epoch},
               {"best_validation_loss", best_loss},
               {"training_rows", train_items.size()},
               {"validation_rows", validation_items.size()},
               {"test_rows", test_items.size()},
               {"training_log", log_file.string()}};
  // What `chexgen utility evaluate` needs to test best.pt on other images.
  const nlohmann::ordered_json model = {{"format", "chexgen-classifier/1"},
                                        {"architecture", deep::architecture_name(o.architecture)},
                                        {"labels", run.labels},
                                        {"image_size", o.image_size},
                                        {"protocol", protocol_name(protocol)},
                                        {"setting", setting_name(t.setting)},
                                        {"space", c.space},
                                        {"generator", run.results.generator},
                                        {"best_epoch", best_epoch}};
  write_file_atomically(work / "model.json", model.dump(2) + "\n");
  add_classifier(run, test, std::move(c), validation_truth, validation_p, scoring);
  finish_run(run, real, synthetic, test,
             {{"mode", "train"},
              {"setting", setting_name(t.setting)},
              {"protocol", protocol_name(protocol)},
              {"seed", o.training.seed},
              {"validation_fraction", o.training.validation_fraction},
              {"architecture", deep::architecture_name(o.architecture)},
              {"weights", o.weights.string()},
              {"epochs", o.epochs},
              {"batch_size", o.batch_size},
              {"image_size", o.image_size},
              {"learning_rate", o.learning_rate},
              {"weight_decay", o.weight_decay},
              {"plateau_factor", o.plateau_factor},
              {"plateau_patience", o.plateau_patience},
              {"threads", threads},
              {"device", device.is_cuda() ? "cuda" : "cpu"},
              {"threshold", o.scoring.threshold},
              {"bootstrap", o.scoring.bootstrap},
              {"confidence", o.scoring.confidence},
              {"agreement", o.agreement}},
             nlohmann::ordered_json::array({{{"space", run.classifiers.front().space}, {"work", work.string()}}}));
  return run;
}

UtilityRun evaluate_checkpoint(const fs::path& checkpoint, const Dataset& test, const EvaluateOptions& o,
                               const Log& log) {
  const fs::path sidecar = checkpoint.parent_path() / "model.json";
  std::error_code ec;
  if (!fs::exists(sidecar, ec))
    throw InputError(Location{sidecar.string()}, "not found (chexgen utility train writes it beside best.pt)");
  const nlohmann::json model = parse_json(read_file_bytes(sidecar), Location{sidecar.string()});
  if (!model.is_object() || model.value("format", "") != "chexgen-classifier/1")
    throw InputError(Location{sidecar.string()}, "not a chexgen-classifier/1 file");
  UtilityRun run;
  run.threshold = o.scoring.threshold;
  run.training.setting = parse_setting(model.at("setting").get<std::string>());
  run.training.protocol = parse_protocol(model.at("protocol").get<std::string>());
  run.labels = model.at("labels").get<std::vector<std::string>>();
  for (const std::string& name : run.labels)
    if (!test.labels.index(name))
      throw InputError(Location{test.source.string()},
                       fmt::format("the test images have no label '{}', which the network predicts (their labels: "
                                   "{}); give --test-label-set",
                                   name, test.labels.joined()));
  if (test.samples.empty()) throw InputError(Location{test.source.string()}, "no test images");
  run.results.evaluation = "utility";
  run.results.generator = !o.generator.empty() ? o.generator : model.value("generator", std::string());
  run.results.per_label.resize(run.labels.size());
  for (std::size_t l = 0; l < run.labels.size(); ++l) run.results.per_label[l].label = run.labels[l];
  const std::vector<Item> items = test_items_of(test, run.labels.size());
  check_files(items);
  std::vector<std::size_t> samples(test.samples.size());
  for (std::size_t s = 0; s < samples.size(); ++s) samples[s] = s;
  set_test_rows(run, test, samples, "the network");

  const int threads = resolve_threads(o.threads);
  torch::set_num_threads(threads);
  const torch::Device device = deep::training_device(o.device);
  const deep::Architecture architecture = deep::parse_architecture(model.at("architecture").get<std::string>());
  deep::Classifier net(architecture, static_cast<int>(run.labels.size()));
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(checkpoint.string());
    net.module()->load(archive);
  } catch (const c10::Error& e) {
    throw InputError(Location{checkpoint.string()},
                     fmt::format("not the weights of this network: {}", std::string(e.what()).substr(0, 200)));
  }
  net.module()->to(device);
  const int image_size = model.at("image_size").get<int>();
  log.info("{}: testing {} on {} images", model.at("space").get<std::string>(), checkpoint.string(), items.size());
  TestedClassifier c;
  c.space = model.at("space").get<std::string>();
  for (std::size_t l = 0; l < run.labels.size(); ++l) c.fitted.push_back(l);
  c.test_probabilities = predict(net, items, o.batch_size, image_size, run.training.protocol, device, threads).second;
  c.details = {{"checkpoint", checkpoint.string()}, {"best_epoch", model.value("best_epoch", 0)}};
  add_classifier(run, test, std::move(c), {}, MatrixViewD{nullptr, 0, run.labels.size()}, [&] {
    ScoringOptions s = o.scoring;
    s.seed = o.seed;
    return s;
  }());
  finish_run(run, nullptr, nullptr, test,
             {{"mode", "evaluate"},
              {"checkpoint", checkpoint.string()},
              {"threshold", o.scoring.threshold},
              {"bootstrap", o.scoring.bootstrap},
              {"confidence", o.scoring.confidence},
              {"seed", o.seed}},
             nlohmann::ordered_json::array({{{"space", run.classifiers.front().space}}}));
  return run;
}

}  // namespace chexgen::utility
