namespace AgentFs.Store;

/// <summary>The layers a branch sees, top first. Depth 0 is the writable top; deeper layers are sealed.</summary>
internal sealed class LayerChain
{
    private readonly Dictionary<long, int> _depth;

    public LayerChain(long[] layers)
    {
        Layers = layers;
        _depth = new Dictionary<long, int>(layers.Length);
        for (int i = 0; i < layers.Length; i++) _depth[layers[i]] = i;
    }

    public long[] Layers { get; }
    public long Top => Layers[0];
    public int Length => Layers.Length;

    /// <summary>The depth of a layer in this chain, or -1 when the layer is not in it.</summary>
    public int DepthOf(long layer) => _depth.TryGetValue(layer, out int d) ? d : -1;
}
